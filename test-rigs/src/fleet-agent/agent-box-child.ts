// A real agent (startAgent: ledger, uploader, broker, admin API, telemetry part) in a process of its own,
// so a test can SIGKILL it the way a box dies: the broker sees the TCP connection drop and publishes the
// box's last will. Reads one JSON line of options on stdin, then commands: `SALE` appends a sale to the
// ledger (as a till's sale is appended) and prints `APPENDED <seq>`. Prints `READY <admin url>` once up.
import { createInterface } from 'node:readline';
import { silentLogger, startAgent } from '@sceneway/gateway-agent';
import { saleInput } from '@sceneway/gateway-agent/testing';
import { type DemoConfigOptions, demoBoxConfig, ensureDemoBoxKeys } from '../demo-site/demo-parts.ts';

export type AgentBoxOptions = Pick<
  DemoConfigOptions,
  'dataDir' | 'bankUrl' | 'bankPrivateKeyHex' | 'telemetry' | 'boxId'
>;

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const first = await lines.next();
const options = JSON.parse(String(first.value)) as AgentBoxOptions;
const config = demoBoxConfig({ ...options, ports: { admin: 0, broker: 0, bank: 0 }, canteenLines: [] });
const agent = await startAgent({ config, secrets: ensureDemoBoxKeys(options.dataDir), logger: silentLogger });
process.stdout.write(`READY ${agent.adminUrl}\n`);
let n = agent.ledger.stats().headSeq;
for await (const line of { [Symbol.asyncIterator]: () => lines }) {
  if (line === 'SALE') {
    const appended = await agent.ledger.append(saleInput(++n));
    process.stdout.write(`APPENDED ${appended.record.seq}\n`);
  }
}
await agent.stop();
