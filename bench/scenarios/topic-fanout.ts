import { cpuMeter, type CpuGroup } from '../lib/cpu';
import { progress } from '../lib/progress';
import type { ScenarioResult } from '../lib/result';
import type { ServerUnderTest, TopicPath } from '../lib/systems';
import { concat, now, percentile, sleep, summarize } from '../lib/stats';
import { costPerDelivery, totalReceived, type ClientWorker } from './context';

const TOPIC = 'bench:fanout';

/** How the figures name each way a message was sent. */
const VIA: Record<TopicPath['via'], string> = { library: 'from a backend library', http: 'over the HTTP API' };

/**
 * One topic, every connected socket subscribed through `topic:subscribe`
 * (the server's policy admits them), then messages published one at a time,
 * taking turns over the ways the server offers a backend (its library, its
 * HTTP API). Per message: when the first and the last subscriber had it.
 */
export async function measureTopicFanout(ctx: {
  server: ServerUnderTest;
  workers: ClientWorker[];
  subscribers: number;
  messages: number;
  cpuGroups: CpuGroup[];
}): Promise<ScenarioResult> {
  const { server } = ctx;
  const gateway = server.gateway;
  await server.createTopic(TOPIC);
  const bar = progress(`subscribing ${ctx.subscribers} sockets`, ctx.subscribers);
  let subscribed = 0;
  for (const worker of ctx.workers)
    worker.on('subscribed', (n) => {
      subscribed += n as number;
      bar.update(subscribed);
    });
  const answers = await Promise.all(ctx.workers.map((w) => w.call('subscribe', { topic: TOPIC, concurrency: 20 })));
  const refused = answers.reduce((n, a) => n + a.failed, 0);
  bar.done(refused > 0 ? `${refused} refused: ${answers.flatMap((a) => a.errors).join(', ')}` : '');
  if (refused > 0) throw new Error(`${refused} topic subscriptions were refused`);

  await Promise.all(ctx.workers.map((w) => w.call('record', undefined)));
  const gatewayBefore = await gateway?.call('stats', undefined);
  const meter = cpuMeter(ctx.cpuGroups);
  const started = performance.now();
  const publishBar = progress(`publishing ${ctx.messages} topic messages`, ctx.messages);
  let timedOut = 0;
  for (let i = 0; i < ctx.messages; i++) {
    const { received: start } = await totalReceived(ctx.workers);
    await server.topicPaths[i % server.topicPaths.length]!.publish(TOPIC, { i, t: now() });
    // Polling the workers costs them CPU, so look only after the message has had time to arrive.
    await sleep(150);
    const deadline = Date.now() + 5000;
    while ((await totalReceived(ctx.workers)).received < start + ctx.subscribers) {
      if (Date.now() > deadline) {
        timedOut++;
        break;
      }
      await sleep(50);
    }
    publishBar.update(i + 1);
    await sleep(100);
  }
  publishBar.done();
  const cpu = meter.stop();
  const seconds = (performance.now() - started) / 1000;
  const gatewayAfter = await gateway?.call('stats', undefined);
  const emits = gatewayAfter && gatewayBefore ? gatewayAfter.topicFanouts - gatewayBefore.topicFanouts : 0;
  const emitMs = emits > 0 ? (gatewayAfter!.topicFanoutMs - gatewayBefore!.topicFanoutMs) / emits : Number.NaN;
  const taken = await Promise.all(ctx.workers.map((w) => w.call('take', undefined)));

  const lastReceipt: number[] = [];
  const firstReceipt = new Map<TopicPath['via'], number[]>(server.topicPaths.map((p) => [p.via, []]));
  const perSocket: Float64Array[] = [];
  let missing = 0;
  for (let i = 0; i < ctx.messages; i++) {
    const latencies = concat(taken.map((t) => t.topic[i] ?? new Float64Array()));
    missing += ctx.subscribers - latencies.length;
    perSocket.push(latencies);
    if (latencies.length > 0) {
      lastReceipt.push(summarize(latencies).max);
      firstReceipt.get(server.topicPaths[i % server.topicPaths.length]!.via)!.push(Math.min(...latencies));
    }
  }
  const all = concat(perSocket);
  const medianLast = percentile(lastReceipt, 50);
  return {
    id: 'topic-fanout',
    title: 'Topic fan-out',
    system: server.name,
    setup: `${server.name}, 1 instance, 1 topic with ${ctx.subscribers.toLocaleString('en')} subscribed sockets, ${ctx.messages} messages published one at a time ${server.topicPaths.map((p) => VIA[p.via]).join(' and ')}`,
    figures: [
      {
        label: 'last subscriber has it, p99 over messages',
        value: percentile(lastReceipt, 99),
        unit: 'ms',
        target: { op: '<=', value: 100 },
      },
      { label: 'last subscriber has it, median message', value: medianLast, unit: 'ms' },
      {
        label: 'deliveries per second (median message)',
        value: (ctx.subscribers / medianLast) * 1000,
        unit: '/s',
        target: { op: '>=', value: 100_000 },
      },
      ...[...firstReceipt].map(([via, ms]) => ({
        label: `first subscriber has it, median message ${VIA[via]}`,
        value: percentile(ms, 50),
        unit: 'ms',
        target: { op: '<=' as const, value: 2 },
      })),
      ...(gateway
        ? [
            {
              label: 'gateway time to write one message to every subscriber',
              value: emitMs,
              unit: 'ms',
              note: 'measured inside the gateway (herald_topic_fanout_seconds): the rest of the time to the last receipt is the client processes reading',
            },
          ]
        : []),
      { label: 'per-socket latency p50', value: percentile(all, 50), unit: 'ms' },
      { label: 'per-socket latency p99', value: percentile(all, 99), unit: 'ms' },
      {
        label: 'deliveries missing',
        value: missing,
        unit: '',
        target: { op: '<=', value: 0 },
        ...(timedOut ? { note: `${timedOut} messages not complete after 5 s` } : {}),
      },
    ],
    cpu,
    cost: costPerDelivery(cpu, seconds, all.length),
    series: { lastReceiptMs: lastReceipt },
  };
}
