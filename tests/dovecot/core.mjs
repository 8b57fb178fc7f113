// Runs mail2fa core ops through dist/mail2fa.wasm's raw ABI for the Dovecot suite:
// reads a JSON array of requests on stdin, prints the JSON array of responses.
import { loadRawAbi } from '../node/raw-abi.mjs';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const requests = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const { call } = await loadRawAbi();
process.stdout.write(JSON.stringify(requests.map((r) => call(r))));
