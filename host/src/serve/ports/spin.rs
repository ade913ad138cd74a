//! Host implementations of the Spin interfaces the Spin component imports, modelled on Spin
//! 4.0.2's own (`crates/factor-key-value`, `crates/key-value-spin`, `crates/factor-variables`):
//!
//! - `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue/{store,atomics}@0.2.0-draft2`, both over
//!   the same SQLite store, so a counter and a value written through either are one store, as in
//!   Spin. Only the store labelled `default` exists (`key_value_stores = ["default"]`).
//! - `fermyon:spin/variables@2.0.0`: the variables `spin.toml` declares, from `--var NAME=VALUE`
//!   or `SPIN_VARIABLE_<NAME>` (Spin's environment provider), default empty.

use std::sync::Arc;

use wasmtime::component::{Resource, ResourceTable};

use super::kv::Kv;
use super::variables::Variables;

#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "tombstone:host/spin-imports",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/key-value.store": super::KvStore,
            "wasi:keyvalue/store.bucket": super::Bucket,
            "wasi:keyvalue/atomics.cas": super::Cas,
        },
    });
}

use bindings::fermyon::spin::{key_value, variables};
use bindings::wasi::keyvalue::{atomics, store as wasi_store};
use bindings::SpinImports;

/// The only key-value store label the component may open.
pub const DEFAULT_STORE: &str = "default";

/// An open `fermyon:spin/key-value` store.
pub struct KvStore {
    label: String,
}

/// An open `wasi:keyvalue` bucket.
pub struct Bucket {
    label: String,
}

/// A compare-and-swap in progress: the value `current` saw.
pub struct Cas {
    label: String,
    key: String,
    seen: Option<Vec<u8>>,
}

/// What a request's instance can reach beyond WASI: the store and the variables.
#[derive(Clone)]
pub struct SpinHost {
    /// The key-value store.
    pub kv: Kv,
    /// The variables.
    pub variables: Arc<Variables>,
}

/// Borrowed view the generated `Host` traits are implemented on.
pub struct SpinView<'a> {
    /// The instance's resource table.
    pub table: &'a mut ResourceTable,
    /// The app state.
    pub host: &'a SpinHost,
}

/// Adds the four interfaces to a linker whose store data gives a [`SpinView`].
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    view: fn(&mut T) -> SpinView<'_>,
) -> anyhow::Result<()> {
    Ok(SpinImports::add_to_linker::<T, SpinData>(linker, view)?)
}

struct SpinData;

impl wasmtime::component::HasData for SpinData {
    type Data<'a> = SpinView<'a>;
}

type Trappable<T> = wasmtime::Result<T>;

impl key_value::Host for SpinView<'_> {}

impl key_value::HostStore for SpinView<'_> {
    async fn open(
        &mut self,
        label: String,
    ) -> Trappable<Result<Resource<KvStore>, key_value::Error>> {
        if label != DEFAULT_STORE {
            return Ok(Err(key_value::Error::NoSuchStore));
        }
        Ok(Ok(self.table.push(KvStore { label })?))
    }

    async fn get(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> Trappable<Result<Option<Vec<u8>>, key_value::Error>> {
        let label = self.table.get(&store)?.label.clone();
        Ok(self
            .host
            .kv
            .get(&label, &key)
            .await
            .map_err(|e| key_value::Error::Other(e.to_string())))
    }

    async fn set(
        &mut self,
        store: Resource<KvStore>,
        key: String,
        value: Vec<u8>,
    ) -> Trappable<Result<(), key_value::Error>> {
        let label = self.table.get(&store)?.label.clone();
        Ok(self
            .host
            .kv
            .set(&label, &key, &value)
            .await
            .map_err(|e| key_value::Error::Other(e.to_string())))
    }

    async fn delete(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> Trappable<Result<(), key_value::Error>> {
        let label = self.table.get(&store)?.label.clone();
        Ok(self
            .host
            .kv
            .delete(&label, &key)
            .await
            .map_err(|e| key_value::Error::Other(e.to_string())))
    }

    async fn exists(
        &mut self,
        store: Resource<KvStore>,
        key: String,
    ) -> Trappable<Result<bool, key_value::Error>> {
        let label = self.table.get(&store)?.label.clone();
        Ok(self
            .host
            .kv
            .exists(&label, &key)
            .await
            .map_err(|e| key_value::Error::Other(e.to_string())))
    }

    async fn get_keys(
        &mut self,
        store: Resource<KvStore>,
    ) -> Trappable<Result<Vec<String>, key_value::Error>> {
        let label = self.table.get(&store)?.label.clone();
        Ok(self
            .host
            .kv
            .keys(&label)
            .await
            .map_err(|e| key_value::Error::Other(e.to_string())))
    }

    async fn drop(&mut self, store: Resource<KvStore>) -> Trappable<()> {
        self.table.delete(store)?;
        Ok(())
    }
}

impl variables::Host for SpinView<'_> {
    async fn get(&mut self, name: String) -> Trappable<Result<String, variables::Error>> {
        Ok(match self.host.variables.get(&name) {
            Some(value) => Ok(value),
            None => Err(variables::Error::Undefined(format!(
                "no variable for {name:?}"
            ))),
        })
    }
}

impl wasi_store::Host for SpinView<'_> {
    async fn open(
        &mut self,
        identifier: String,
    ) -> Trappable<Result<Resource<Bucket>, wasi_store::Error>> {
        if identifier != DEFAULT_STORE {
            return Ok(Err(wasi_store::Error::NoSuchStore));
        }
        Ok(Ok(self.table.push(Bucket { label: identifier })?))
    }
}

impl wasi_store::HostBucket for SpinView<'_> {
    async fn get(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> Trappable<Result<Option<Vec<u8>>, wasi_store::Error>> {
        let label = self.table.get(&bucket)?.label.clone();
        Ok(self
            .host
            .kv
            .get(&label, &key)
            .await
            .map_err(|e| wasi_store::Error::Other(e.to_string())))
    }

    async fn set(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> Trappable<Result<(), wasi_store::Error>> {
        let label = self.table.get(&bucket)?.label.clone();
        Ok(self
            .host
            .kv
            .set(&label, &key, &value)
            .await
            .map_err(|e| wasi_store::Error::Other(e.to_string())))
    }

    async fn delete(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> Trappable<Result<(), wasi_store::Error>> {
        let label = self.table.get(&bucket)?.label.clone();
        Ok(self
            .host
            .kv
            .delete(&label, &key)
            .await
            .map_err(|e| wasi_store::Error::Other(e.to_string())))
    }

    async fn exists(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> Trappable<Result<bool, wasi_store::Error>> {
        let label = self.table.get(&bucket)?.label.clone();
        Ok(self
            .host
            .kv
            .exists(&label, &key)
            .await
            .map_err(|e| wasi_store::Error::Other(e.to_string())))
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<Bucket>,
        cursor: Option<String>,
    ) -> Trappable<Result<wasi_store::KeyResponse, wasi_store::Error>> {
        // One page: the store's own (SQLite: keys in order after the cursor; Redis: a SCAN step).
        let label = self.table.get(&bucket)?.label.clone();
        Ok(self
            .host
            .kv
            .keys_page(&label, cursor.as_deref())
            .await
            .map(|(keys, cursor)| wasi_store::KeyResponse { keys, cursor })
            .map_err(|e| wasi_store::Error::Other(e.to_string())))
    }

    async fn drop(&mut self, bucket: Resource<Bucket>) -> Trappable<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for SpinView<'_> {
    async fn increment(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
        delta: i64,
    ) -> Trappable<Result<i64, wasi_store::Error>> {
        let label = self.table.get(&bucket)?.label.clone();
        Ok(self
            .host
            .kv
            .increment(&label, &key, delta)
            .await
            .map_err(|e| wasi_store::Error::Other(e.to_string())))
    }

    async fn swap(
        &mut self,
        cas: Resource<Cas>,
        value: Vec<u8>,
    ) -> Trappable<Result<(), atomics::CasError>> {
        let Cas { label, key, seen } = self.table.delete(cas)?;
        match self
            .host
            .kv
            .compare_and_swap(&label, &key, seen.as_deref(), &value)
            .await
        {
            Ok(true) => Ok(Ok(())),
            Ok(false) => {
                let again = self.table.push(Cas { label, key, seen })?;
                Ok(Err(atomics::CasError::CasFailed(again)))
            }
            Err(e) => Ok(Err(atomics::CasError::StoreError(
                wasi_store::Error::Other(e.to_string()),
            ))),
        }
    }
}

impl atomics::HostCas for SpinView<'_> {
    async fn new(
        &mut self,
        bucket: Resource<Bucket>,
        key: String,
    ) -> Trappable<Result<Resource<Cas>, wasi_store::Error>> {
        let label = self.table.get(&bucket)?.label.clone();
        let seen = match self.host.kv.get(&label, &key).await {
            Ok(v) => v,
            Err(e) => return Ok(Err(wasi_store::Error::Other(e.to_string()))),
        };
        Ok(Ok(self.table.push(Cas { label, key, seen })?))
    }

    async fn current(
        &mut self,
        cas: Resource<Cas>,
    ) -> Trappable<Result<Option<Vec<u8>>, wasi_store::Error>> {
        // As in Spin: `current` reads again, and `swap` compares against what it read last.
        let (label, key) = {
            let cas = self.table.get(&cas)?;
            (cas.label.clone(), cas.key.clone())
        };
        let read = self.host.kv.get(&label, &key).await;
        let cas = self.table.get_mut(&cas)?;
        Ok(match read {
            Ok(value) => {
                cas.seen.clone_from(&value);
                Ok(value)
            }
            Err(e) => Err(wasi_store::Error::Other(e.to_string())),
        })
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> Trappable<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}
