// Hostile input through the raw ABI: every answer is a structured error, never a trap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRawAbi } from './raw-abi.mjs';

const abi = await loadRawAbi();
const enc = new TextEncoder();

function expectError(bytes, code) {
  const r = abi.callBytes(bytes);
  assert.equal(r.ok, false);
  assert.equal(r.error.code, code);
  assert.equal(typeof r.error.message, 'string');
}

test('invalid JSON, non-objects and empty input', () => {
  expectError(enc.encode('{"op":'), 'invalid_request');
  expectError(enc.encode('[]'), 'invalid_request');
  expectError(new Uint8Array(0), 'invalid_request');
  expectError(Uint8Array.from([0xff, 0xfe, 0x00, 0x7b]), 'invalid_request');
});

test('unknown op and wrong types', () => {
  expectError(enc.encode('{"op":"nope"}'), 'unknown_op');
  expectError(enc.encode('{"op":["totp.code"]}'), 'invalid_field');
  expectError(enc.encode('{"op":"totp.code","secret":5,"time":1}'), 'invalid_field');
  expectError(enc.encode('{"op":"totp.code","secret":"GEZDGNBVGY3TQOJQ","time":-1}'), 'invalid_field');
  expectError(enc.encode('{"op":"totp.code","secret":"GEZDGNBVGY3TQOJQ","time":1.5}'), 'invalid_field');
});

test('random bytes never trap', () => {
  let seed = 0x2545f491;
  const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: 1 + (i % 97) }, next);
    const r = abi.callBytes(bytes);
    assert.equal(typeof r.ok, 'boolean');
  }
});

test('huge inputs: oversized request and refused allocation', () => {
  expectError(new Uint8Array(1024 * 1024 + 1).fill(0x20), 'request_too_large');
  assert.equal(abi.exports.mail2fa_alloc(64 * 1024 * 1024), 0);
  assert.equal(abi.exports.mail2fa_alloc(0), 0);
  const deep = enc.encode('['.repeat(200000));
  expectError(deep, 'invalid_request');
  const longSecret = JSON.stringify({ op: 'otpauth.parse', uri: 'otpauth://totp/a?secret=' + 'A'.repeat(500000) });
  expectError(enc.encode(longSecret), 'invalid_field');
});

test('memory does not grow across many calls', () => {
  const request = enc.encode(JSON.stringify({ op: 'totp.code', secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', time: 59 }));
  for (let i = 0; i < 200; i++) abi.callBytes(request);
  const before = abi.exports.memory.buffer.byteLength;
  for (let i = 0; i < 5000; i++) abi.callBytes(request);
  assert.equal(abi.exports.memory.buffer.byteLength, before);
});
