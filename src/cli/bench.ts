import type { Command } from 'commander'

/** `claimrun bench`: registered on the CLI's program; its code is loaded only when it runs. */
export function addBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('measure claim contention: strategies × thread counts, with duplicates and each thread\'s share')
    .option('--threads <list>', 'thread counts to race, comma-separated', '1,2,4,8')
    .option('--slots <n>', 'slots (work items) for the shared-memory strategies', '1000000')
    .option('--message-slots <n>', 'slots for the strategies that pay a round trip per claim (postmessage, comlink, redis)', '10000')
    .option('--reps <n>', 'repetitions of each configuration (medians are shown)', '3')
    .option('--strategies <list>', 'cursor,scan,naive,postmessage,comlink[,redis] (default: all; redis with --store)')
    .option('--store <url>', 'also race claimrun\'s Redis claim script on this server (redis://host:port[/db])')
    .option('--json', 'print the rows as JSON instead of a table')
    .option('--svg <file>', 'write an SVG chart of claims per second')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const { benchCommand } = await import('../bench/bench.js')
      await benchCommand(flags)
    })
}
