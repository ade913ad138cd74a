//! The app's variables as Spin resolves them: `spin.toml`'s defaults, then the environment
//! (`SPIN_VARIABLE_<NAME>`, Spin's environment provider), then `--var NAME=VALUE`.

use std::collections::BTreeMap;

/// Application variables, as `spin.toml` declares them.
#[derive(Debug, Clone, Default)]
pub struct Variables(BTreeMap<String, String>);

impl Variables {
    /// Every declared variable with its default (`(name, default)`), then
    /// `SPIN_VARIABLE_<NAME>` from the environment, then `overrides` (`--var`), each later
    /// source winning.
    pub fn new(
        declared: &[(&str, &str)],
        environment: impl Iterator<Item = (String, String)>,
        overrides: &[(String, String)],
    ) -> anyhow::Result<Variables> {
        let mut values: BTreeMap<String, String> = declared
            .iter()
            .map(|(name, default)| ((*name).to_owned(), (*default).to_owned()))
            .collect();
        for (name, value) in environment {
            if let Some(var) = name.strip_prefix("SPIN_VARIABLE_") {
                let var = var.to_ascii_lowercase();
                if values.contains_key(&var) {
                    values.insert(var, value);
                }
            }
        }
        for (name, value) in overrides {
            anyhow::ensure!(
                values.contains_key(name),
                "--var {name}: not a variable of this app (known: {})",
                declared
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            values.insert(name.clone(), value.clone());
        }
        Ok(Variables(values))
    }

    /// The value of a variable.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}
