// BullMQ counterpart of scripts/bench-queue, for comparing on the same machine and the same Redis: the same phases
// and the same shape (a producer keeping 64 adds in flight, one worker at --concurrency, empty jobs), one JSON object
// on stdout. Run through scripts/bench-bullmq, which installs BullMQ and starts a redis-server.
'use strict';
const { Queue, Worker } = require('bullmq');

const [port, jobs, concurrency, samples, pickupWarmup] = process.argv.slice(2).map(Number);
const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };

/** Jobs per second from the worker's start until every job completed; fill: 'concurrent' or 'before'. */
async function run(name, n, fill, load) {
  const queue = new Queue(name, { connection });
  const client = await queue.client;
  if (fill === 'before') {
    for (let i = 0; i < n; i += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, () => ({ name: 'x', data: {} })));
    }
  }
  let completed = 0;
  let allDone;
  const finished = new Promise((resolve) => { allDone = resolve; });
  const before = load ? redisLoad(await client.info()) : null;
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const worker = new Worker(name, async () => {}, { connection, concurrency });
  worker.on('completed', () => { if (++completed === n) allDone(); });
  if (fill === 'concurrent') {
    await new Promise((resolve) => {
      let sent = 0;
      let acked = 0;
      const pump = () => {
        while (sent < n && sent - acked < 64) {
          sent++;
          queue.add('x', {}).then(() => { if (++acked === n) resolve(); else pump(); });
        }
      };
      pump();
    });
  }
  await finished;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (load) {
    const after = redisLoad(await client.info());
    load.cpuMicrosPerJob = Math.round(((after.cpu - before.cpu) / n) * 10) / 10;
    load.busyPct = Math.round(((after.cpu - before.cpu) / (seconds * 1e6)) * 100);
    load.callsPerJob = Math.round(((after.calls - before.calls) / n) * 100) / 100;
    const cpu = process.cpuUsage(cpuBefore);
    load.benchCpuMicrosPerJob = Math.round(((cpu.user + cpu.system) / n) * 10) / 10;
  }
  await worker.close();
  await queue.close();
  return n / seconds;
}

/** Redis's CPU time (user + system, µs) and the commands it served, from one INFO text. */
function redisLoad(info) {
  const field = (name) => Number((info.match(new RegExp(`^${name}:([0-9.]+)`, 'm')) || [])[1]);
  return { cpu: (field('used_cpu_user') + field('used_cpu_sys')) * 1e6, calls: field('total_commands_processed') };
}

/** Milliseconds from queue.add into an idle queue until the waiting worker runs the job, sorted. */
async function pickup(name, count, warmup) {
  const queue = new Queue(name, { connection });
  let took;
  const worker = new Worker(name, async () => took(process.hrtime.bigint()), { connection, concurrency: 1 });
  await worker.waitUntilReady();
  const ms = [];
  for (let i = -warmup; i < count; i++) {
    const ran = new Promise((resolve) => { took = resolve; });
    await new Promise((resolve) => setTimeout(resolve, 3)); // the worker parks in its blocking wait
    const t0 = process.hrtime.bigint();
    await queue.add('p', {});
    const t1 = await ran;
    if (i >= 0) ms.push(Number(t1 - t0) / 1e6);
  }
  await worker.close();
  await queue.close();
  return ms.sort((a, b) => a - b);
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (v) => Math.round(v * 1000) / 1000;

(async () => {
  // as bench-queue: each timed phase follows an untimed run of its own shape, so every figure is from warm code
  await run('warmup', Math.min(jobs, 20000), 'concurrent');
  const ms = await pickup('pickup', samples, pickupWarmup);
  await run('warmup2', Math.min(jobs, 20000), 'concurrent');
  const load = {};
  const throughput = await run('throughput', jobs, 'concurrent', load);
  const drain = await run('drain', jobs, 'before');
  console.log(JSON.stringify({
    bullmq_version: require('bullmq/package.json').version,
    pickup_p50_ms: round(percentile(ms, 50)), pickup_p90_ms: round(percentile(ms, 90)),
    pickup_p99_ms: round(percentile(ms, 99)), pickup_max_ms: round(ms[ms.length - 1]), pickup_samples: ms.length, pickup_warmup: pickupWarmup,
    throughput_jobs_per_s: Math.round(throughput), throughput_jobs: jobs, redis_cpu_us_per_job: load.cpuMicrosPerJob,
    redis_busy_pct: load.busyPct, redis_calls_per_job: load.callsPerJob,
    bench_cpu_us_per_job: load.benchCpuMicrosPerJob, drain_jobs_per_s: Math.round(drain),
    concurrency,
  }));
  process.exit(0);
})().catch((err) => {
  console.error(`bench-bullmq failed: ${err.message}`);
  process.exit(1);
});
