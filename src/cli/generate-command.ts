import { Option, type Command } from 'commander'
import { DEFAULTS } from '../options/defaults.js'
import { number } from './parse.js'
import { plural } from '../util/plural.js'

export function registerGenerate(program: Command): void {
  const d = DEFAULTS.generate
  program
    .command('generate')
    .description('write a demo suite of sleeping test scripts, some failing')
    .argument('<dir>', 'folder to write the tests into')
    .option('--count <n>', 'number of tests', number, d.count)
    .option('--failures <n>', 'how many of them fail', number, d.failures)
    .option('--min-ms <ms>', 'shortest sleep', number, d.minMs)
    .option('--max-ms <ms>', 'longest sleep', number, d.maxMs)
    .option('--seed <n>', 'same seed, same suite', number, d.seed)
    .addOption(new Option('--lang <lang>', 'language of the tests').choices(['js', 'py', 'sh']).default(d.lang))
    .action(async (dir: string, flags: { count: number; failures: number; minMs: number; maxMs: number; seed: number; lang: 'js' | 'py' | 'sh' }) => {
      const { generateSuite } = await import('../demo/generate.js')
      const tests = generateSuite(dir, flags)
      const sum = tests.reduce((s, t) => s + t.sleepMs, 0)
      process.stdout.write(`claimrun: wrote ${plural(tests.length, 'test')} (${tests.filter((t) => t.fails).length} failing, ${(sum / 1000).toFixed(1)} s of sleep) to ${dir}\n`)
    })
}
