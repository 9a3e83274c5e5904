import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  BENCH_SUBNETS, LinkShapingError, describeShaping, netemArgs, parseLinkShaping, pickSubnet, shapesLinks, shapingOptions
} from '../../scripts/bench/gossip/link-shaping.ts'

describe('gossip benchmark link shaping options', () => {
  it('reads nothing as loopback, and a delay or a loss as namespaces with netem', () => {
    assert.deepEqual(parseLinkShaping({}), { namespaces: false, delayMs: 0, lossPercent: 0, proxy: false })
    assert.deepEqual(parseLinkShaping({ netNamespaces: true }), { namespaces: true, delayMs: 0, lossPercent: 0, proxy: false })
    assert.deepEqual(parseLinkShaping({ linkDelay: '25' }), { namespaces: true, delayMs: 25, lossPercent: 0, proxy: false })
    assert.deepEqual(parseLinkShaping({ linkDelay: '12.5', loss: '1' }), { namespaces: true, delayMs: 12.5, lossPercent: 1, proxy: false })
    assert.deepEqual(parseLinkShaping({ loss: '0.5' }), { namespaces: true, delayMs: 0, lossPercent: 0.5, proxy: false })
    // A zero delay asks for nothing netem would do.
    assert.deepEqual(parseLinkShaping({ linkDelay: '0' }), { namespaces: false, delayMs: 0, lossPercent: 0, proxy: false })
    assert.equal(shapesLinks(parseLinkShaping({ netNamespaces: true })), false)
    assert.equal(shapesLinks(parseLinkShaping({ loss: '2' })), true)
  })

  it('reads --link-emulation: netem by default, proxy on loopback with the delay only', () => {
    assert.deepEqual(parseLinkShaping({ linkDelay: '25', linkEmulation: 'netem' }), parseLinkShaping({ linkDelay: '25' }))
    assert.deepEqual(parseLinkShaping({ linkDelay: '25', linkEmulation: 'proxy' }), { namespaces: false, delayMs: 25, lossPercent: 0, proxy: true })
    // Delay 0 through relays is a run of its own (the relays' cost alone), not loopback.
    assert.deepEqual(parseLinkShaping({ linkDelay: '0', linkEmulation: 'proxy' }), { namespaces: false, delayMs: 0, lossPercent: 0, proxy: true })
    assert.equal(shapesLinks(parseLinkShaping({ linkDelay: '25', linkEmulation: 'proxy' })), false, 'no netem with the proxy')
  })

  it('refuses --loss, --net-namespaces and a missing --link-delay with the proxy, and an unknown emulation, in one line', () => {
    for (const [options, pattern] of [
      [{ linkDelay: '25', loss: '1', linkEmulation: 'proxy' }, /^--loss needs --link-emulation netem: .*cannot drop packets/],
      [{ linkDelay: '25', loss: '0', linkEmulation: 'proxy' }, /^--loss needs --link-emulation netem/],
      [{ linkDelay: '25', netNamespaces: true, linkEmulation: 'proxy' }, /^--link-emulation proxy runs on loopback/],
      [{ linkEmulation: 'proxy' }, /^--link-emulation proxy needs --link-delay/],
      [{ linkDelay: '25', linkEmulation: 'tc' }, /^--link-emulation must be netem or proxy, got "tc"$/]
    ] as const) {
      assert.throws(() => parseLinkShaping(options), (e: Error) => e instanceof LinkShapingError && pattern.test(e.message) && !e.message.includes('\n'), JSON.stringify(options))
    }
  })

  it('the command line refuses --loss with the proxy in one line, exit 2, before starting anything', async () => {
    const root = join(import.meta.dirname, '..', '..')
    const node = join(root, 'node_modules', '.bin', 'node')
    const err = await promisify(execFile)(node, [join(root, 'scripts', 'bench', 'gossip.ts'), '--link-delay', '25', '--loss', '1', '--link-emulation', 'proxy'])
      .then(() => undefined, (e: { code?: number, stdout?: string, stderr?: string }) => e)
    assert.ok(err !== undefined, 'it must fail')
    assert.equal(err.code, 2)
    assert.equal(err.stdout, '')
    assert.match(err.stderr ?? '', /^--loss needs --link-emulation netem: [^\n]*\n$/)
  })

  it('refuses a value that is not a number in range, naming the option', () => {
    for (const [options, option] of [
      [{ linkDelay: '' }, 'link-delay'], [{ linkDelay: '25ms' }, 'link-delay'], [{ linkDelay: '-1' }, 'link-delay'],
      [{ linkDelay: '2001' }, 'link-delay'], [{ linkDelay: 'NaN' }, 'link-delay'], [{ loss: '51' }, 'loss'], [{ loss: '1%' }, 'loss']
    ] as const) {
      assert.throws(() => parseLinkShaping(options), (e: Error) => e instanceof LinkShapingError && e.message.startsWith(`--${option} must be a number`), JSON.stringify(options))
    }
  })

  it('builds the netem command for the node end of a veth inside its namespace', () => {
    assert.deepEqual(netemArgs('tzp2pgb1n0', 'tzvgb1n0', parseLinkShaping({ linkDelay: '25' })),
      ['-n', 'tzp2pgb1n0', 'qdisc', 'add', 'dev', 'tzvgb1n0', 'root', 'netem', 'delay', '25ms', 'limit', '100000'])
    assert.deepEqual(netemArgs('ns', 'dev', parseLinkShaping({ linkDelay: '25', loss: '1.5' })),
      ['-n', 'ns', 'qdisc', 'add', 'dev', 'dev', 'root', 'netem', 'delay', '25ms', 'loss', '1.5%', 'limit', '100000'])
    assert.deepEqual(netemArgs('ns', 'dev', parseLinkShaping({ loss: '3' })),
      ['-n', 'ns', 'qdisc', 'add', 'dev', 'dev', 'root', 'netem', 'loss', '3%', 'limit', '100000'])
    assert.throws(() => netemArgs('ns', 'dev', parseLinkShaping({ netNamespaces: true })), LinkShapingError)
  })

  it('gives back the options that ask for a shaping, for the result\'s command', () => {
    for (const options of [['--link-delay', '25'], ['--link-delay', '25', '--loss', '1.5'], ['--loss', '2'], ['--net-namespaces'], [], ['--link-delay', '25', '--link-emulation', 'proxy']]) {
      const value = (name: string): string | undefined => { const i = options.indexOf(name); return i < 0 ? undefined : options[i + 1] }
      const shaping = parseLinkShaping({ linkDelay: value('--link-delay'), loss: value('--loss'), netNamespaces: options.includes('--net-namespaces'), linkEmulation: value('--link-emulation') })
      assert.deepEqual(shapingOptions(shaping), options)
    }
  })

  it('describes the network for the report', () => {
    assert.equal(describeShaping(parseLinkShaping({})), 'loopback')
    assert.match(describeShaping(parseLinkShaping({ netNamespaces: true })), /no netem/)
    assert.match(describeShaping(parseLinkShaping({ linkDelay: '25', loss: '1' })), /netem 25 ms one-way delay and 1 % loss/)
    assert.match(describeShaping(parseLinkShaping({ linkDelay: '25', linkEmulation: 'proxy' })), /userspace TCP relay delaying each direction by 25 ms/)
  })
})

describe('gossip benchmark subnet choice', () => {
  const addresses = (...thirdOctets: number[]): string => [
    '1: lo    inet 127.0.0.1/8 scope host lo',
    '2: eth0    inet 10.99.1.5/24 brd 10.99.1.255 scope global eth0',
    ...thirdOctets.map((o, i) => `${i + 3}: tzbr${i}    inet 10.99.${o}.1/24 scope global tzbr${i}`)
  ].join('\n')

  it('stays in the benchmark range (above the devnet subnets) and starts from the preferred one', () => {
    assert.equal(pickSubnet(addresses(), 0), BENCH_SUBNETS.first)
    const span = BENCH_SUBNETS.last - BENCH_SUBNETS.first + 1
    assert.equal(pickSubnet(addresses(), 3), BENCH_SUBNETS.first + 3)
    assert.equal(pickSubnet(addresses(), span + 3), BENCH_SUBNETS.first + 3)
    for (let preferred = 0; preferred < 100; preferred++) {
      const s = pickSubnet(addresses(), preferred)
      assert.ok(s >= BENCH_SUBNETS.first && s <= BENCH_SUBNETS.last, `${s}`)
    }
  })

  it('skips subnets in use on the host, wrapping around the range', () => {
    assert.equal(pickSubnet(addresses(BENCH_SUBNETS.first + 3, BENCH_SUBNETS.first + 4), 3), BENCH_SUBNETS.first + 5)
    assert.equal(pickSubnet(addresses(BENCH_SUBNETS.last), BENCH_SUBNETS.last - BENCH_SUBNETS.first), BENCH_SUBNETS.first)
    // 10.99.2xx addresses with another prefix length or in another octet do not count as another subnet.
    assert.equal(pickSubnet('inet 10.199.220.1/24 scope global x', 0), BENCH_SUBNETS.first)
  })

  it('fails with a clear message when every subnet is taken', () => {
    const all = Array.from({ length: BENCH_SUBNETS.last - BENCH_SUBNETS.first + 1 }, (_, i) => BENCH_SUBNETS.first + i)
    assert.throws(() => pickSubnet(addresses(...all), 0), (e: Error) => e instanceof LinkShapingError && /in use on this host/.test(e.message))
  })
})
