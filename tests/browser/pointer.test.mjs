// www/pointer.js on its own, in Node: where a JSON Pointer points in JSON text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locate, parsePointer, syntaxErrorOffset } from '../../www/pointer.js';

const text = '\ufeff{"invoices": [{"invoice_id": "inv_1", "amount": 10}], "a/b": {"~x": [1, {"q": "é\\"\\u0041"}]}, "d": 1, "d": {"z": true}, "e\\u0301": null}';
const at = (pointer) => {
  const r = locate(text, pointer);
  return r && [text.slice(r.start, r.end), r.exact];
};

test('values at pointers, exactly', () => {
  assert.deepEqual(at(''), [text.slice(1), true]);
  assert.deepEqual(at('/invoices/0/amount'), ['10', true]);
  assert.deepEqual(at('/invoices/0/invoice_id'), ['"inv_1"', true]);
  assert.deepEqual(at('/invoices/0'), ['{"invoice_id": "inv_1", "amount": 10}', true]);
  assert.deepEqual(at('/a~1b/~0x/1/q'), ['"é\\"\\u0041"', true]);
  assert.deepEqual(at('/e\u0301'), ['null', true], 'keys are compared decoded');
});

test('a duplicate key points at its last value, as serde_json keeps it', () => {
  assert.deepEqual(at('/d'), ['{"z": true}', true]);
  assert.deepEqual(at('/d/z'), ['true', true]);
});

test('a pointer past what exists gives the deepest existing value, not exact', () => {
  assert.deepEqual(at('/invoices/1'), [text.slice(text.indexOf('[{'), text.indexOf('}]') + 2), false]);
  assert.deepEqual(at('/invoices/0/client_id'), ['{"invoice_id": "inv_1", "amount": 10}', false]);
  assert.deepEqual(at('/invoices/00'), [text.slice(text.indexOf('[{'), text.indexOf('}]') + 2), false], 'no leading zeros');
  assert.deepEqual(at('/invoices/0/amount/x'), ['10', false]);
});

test('not JSON, or not a pointer', () => {
  assert.equal(locate('{"a": ', '/a'), null);
  assert.equal(locate('{"a": 1} x', ''), null);
  assert.equal(locate('{"a": tru}', '/a'), null);
  assert.equal(locate('{}', 'a'), null);
  assert.deepEqual(parsePointer('/a~01/~1'), ['a~1', '/']);
});

test("serde_json's line and column become a text offset (columns count UTF-8 bytes)", () => {
  const bad = '{"eventType": "invoice.deleted", "invoice": {"id": "in_123"\n';
  assert.equal(syntaxErrorOffset(bad, 'EOF while parsing an object at line 1 column 59'), 58);
  assert.equal(syntaxErrorOffset('{"é": x}', 'expected value at line 1 column 8'), '{"é": x}'.indexOf('x'));
  assert.equal(syntaxErrorOffset('{\n  "a": ?\n}', 'expected value at line 2 column 8'), '{\n  "a": ?\n}'.indexOf('?'));
  assert.equal(syntaxErrorOffset('{}', 'no position'), null);
});
