// scripts/setup.sh and its helpers: the flags, the Debian archive lookup in apt's
// configuration, the recipe hash that versions the runtime images, and, where an engine
// answers, that the runtime images present are the ones the current recipes describe.
import { execFile } from 'node:child_process'
import { appendFile, cp, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const REPO_DIR = join(import.meta.dirname, '..', '..')
const RUNTIMES = ['bash', 'python', 'node', 'python-torch'] as const

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a bash snippet from the repo root with the helpers sourced; never throws. */
async function bash(script: string, args: readonly string[] = [], env = {}): Promise<Outcome> {
  const prelude = [
    'set -euo pipefail',
    'source scripts/lib/common.sh',
    'source scripts/lib/apt-mirror.sh',
    'source scripts/lib/docker-engine.sh',
    'source scripts/lib/images.sh',
  ].join('\n')
  try {
    const { stdout, stderr } = await run('bash', ['-c', `${prelude}\n${script}`, 'test', ...args], {
      cwd: REPO_DIR,
      env: { ...process.env, GRIDX_DEBIAN_MIRROR: '', ...env },
      timeout: 30_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

describe('scripts/setup.sh flags', () => {
  it('should print its usage and change nothing when given --help', async () => {
    const outcome = await bash('bash scripts/setup.sh --help')
    expect(outcome.code).toBe(0)
    expect(outcome.stdout).toContain('Usage: bash scripts/setup.sh')
    for (const flag of ['--ci', '--no-images', '--no-browser', '--no-promtool']) {
      expect(outcome.stdout).toContain(flag)
    }
  })

  it('should have put promtool on the PATH for the metrics tests', async () => {
    // `npm test` runs setup without --no-promtool before the tests.
    const found = await bash('promtool --version')
    expect(found.code, 'promtool is missing: run bash scripts/setup.sh').toBe(0)
    expect(found.stdout + found.stderr).toMatch(/^promtool, version \d/m)
  })

  it('should have put zsh on the PATH for the completion tests', async () => {
    const found = await bash('zsh --version')
    expect(found.code, 'zsh is missing: run bash scripts/setup.sh').toBe(0)
    expect(found.stdout).toMatch(/^zsh \d/)
  })

  it('should fail with the usage when given an unknown flag', async () => {
    const outcome = await bash('bash scripts/setup.sh --bogus')
    expect(outcome.code).not.toBe(0)
    expect(outcome.stderr).toContain('unknown argument: --bogus')
  })
})

describe('debian_mirror_url', () => {
  let aptDir: string
  beforeAll(async () => {
    aptDir = await mkdtemp(join(tmpdir(), 'gridx-apt-'))
  })
  afterAll(() => rm(aptDir, { recursive: true, force: true }))

  async function writeApt(files: Record<string, string>): Promise<void> {
    await rm(aptDir, { recursive: true, force: true })
    await mkdir(join(aptDir, 'sources.list.d'), { recursive: true })
    for (const [name, text] of Object.entries(files)) await writeFile(join(aptDir, name), text)
  }

  it('should pick the main archive when third-party and security entries come first', async () => {
    await writeApt({
      'sources.list.d/a-nodejs.sources': [
        'Types: deb',
        'URIs: https://nodejs.example/node_20.x',
        'Suites: nodistro',
        'Components: main',
        '',
      ].join('\n'),
      'sources.list.d/debian.sources': [
        'Types: deb',
        '# http://snapshot.example/archive/debian/20250520T000000Z',
        'URIs: http://security.example/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
        'Types: deb',
        'Enabled: no',
        'URIs: http://disabled.example/debian',
        'Suites: bookworm',
        'Components: main',
        '',
        'Types: deb deb-src',
        'URIs: http://mirror.example/debian/',
        'Suites: bookworm bookworm-updates',
        'Components: main contrib',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
      ].join('\n'),
    })
    const outcome = await bash('debian_mirror_url "$1"', [aptDir])
    expect(outcome).toMatchObject({ code: 0, stdout: 'http://mirror.example/debian\n' })
  })

  it('should read one-line entries and skip comments and other components', async () => {
    await writeApt({
      'sources.list': [
        '# deb http://commented.example/debian bookworm main',
        'deb http://contrib-only.example/debian bookworm contrib',
        'deb [arch=amd64 signed-by=/etc/key.gpg] https://mirror.example/debian bookworm main',
      ].join('\n'),
    })
    const outcome = await bash('debian_mirror_url "$1"', [aptDir])
    expect(outcome).toMatchObject({ code: 0, stdout: 'https://mirror.example/debian\n' })
  })

  it('should fail when apt names no Debian archive', async () => {
    await writeApt({ 'sources.list': 'deb https://nodejs.example/node nodistro main\n' })
    const outcome = await bash('debian_mirror_url "$1"', [aptDir])
    expect(outcome.code).toBe(1)
    expect(outcome.stdout).toBe('')
  })

  it('should use GRIDX_DEBIAN_MIRROR when it is set', async () => {
    await writeApt({})
    const outcome = await bash('debian_mirror_url "$1"', [aptDir], {
      GRIDX_DEBIAN_MIRROR: 'http://override.example/debian',
    })
    expect(outcome).toMatchObject({ code: 0, stdout: 'http://override.example/debian\n' })
  })
})

describe('recipe_hash', () => {
  let imagesDir: string
  beforeAll(async () => {
    imagesDir = await mkdtemp(join(tmpdir(), 'gridx-images-'))
    await cp(join(REPO_DIR, 'scripts', 'images'), imagesDir, { recursive: true })
  })
  afterAll(() => rm(imagesDir, { recursive: true, force: true }))

  async function hashes(dir: string): Promise<string[]> {
    const outcome = await bash(
      `for name in ${RUNTIMES.join(' ')}; do recipe_hash "$name" "$1"; done`,
      [dir],
    )
    expect(outcome.code).toBe(0)
    return outcome.stdout.trim().split('\n')
  }

  it('should give each runtime a distinct 12-hex version that depends on content', async () => {
    const inRepo = await hashes(join(REPO_DIR, 'scripts', 'images'))
    expect(inRepo).toHaveLength(RUNTIMES.length)
    for (const hash of inRepo) expect(hash).toMatch(/^[0-9a-f]{12}$/)
    expect(new Set(inRepo).size).toBe(RUNTIMES.length)
    expect(await hashes(imagesDir)).toEqual(inRepo)
  })

  it('should change only the python version when the python package list changes', async () => {
    const before = await hashes(imagesDir)
    await appendFile(join(imagesDir, 'python.packages'), 'python3-pandas\n')
    const after = await hashes(imagesDir)
    expect(after[0]).toBe(before[0])
    expect(after[1]).not.toBe(before[1])
    expect(after[2]).toBe(before[2])
    expect(after[3]).toBe(before[3])
  })

  it('should change every version when the shared build script changes', async () => {
    const before = await hashes(imagesDir)
    await appendFile(join(imagesDir, 'build-rootfs.sh'), '# changed\n')
    const after = await hashes(imagesDir)
    for (const [index, hash] of after.entries()) expect(hash).not.toBe(before[index])
  })
})

describe('an optional runtime image that does not build', () => {
  let stateDir: string
  let binDir: string
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'gridx-state-'))
    binDir = await mkdtemp(join(tmpdir(), 'gridx-bin-'))
    // Only looked for on the PATH: the build itself is replaced below.
    await writeFile(join(binDir, 'debootstrap'), '#!/bin/sh\nexit 1\n', { mode: 0o755 })
  })
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true })
    await rm(binDir, { recursive: true, force: true })
  })

  /** ensure_runtime_image with no image present and a build that fails as debootstrap can. */
  const failingBuild = (name: string) =>
    bash(
      [
        'is_root() { return 0; }',
        'build_runtime_image() {',
        '  echo "build $1" >>"$GRIDX_STATE_DIR/builds"',
        '  image_failed "$1" "building the root filesystem of $1 failed"',
        '}',
        'declare -A none=()',
        'for attempt in 1 2; do',
        '  if ensure_runtime_image "$1" none; then echo "ready $attempt"',
        '  else echo "missing $attempt"; fi',
        'done',
        'cat "$GRIDX_STATE_DIR/builds"',
      ].join('\n'),
      [name],
      {
        GRIDX_STATE_DIR: stateDir,
        GRIDX_DEBIAN_MIRROR: 'http://127.0.0.1:9/debian',
        PATH: `${binDir}:${process.env.PATH}`,
      },
    )

  it('should warn, go on without it and not build it again for the same recipe', async () => {
    const outcome = await failingBuild('python-torch')
    expect(outcome.code, outcome.stderr).toBe(0)
    expect(outcome.stdout).toBe('missing 1\nmissing 2\nbuild python-torch\n')
    expect(outcome.stderr).toMatch(
      /WARNING: building the root filesystem of python-torch failed; jobs for python-torch/,
    )
    expect(outcome.stderr).toMatch(/did not build last time .*delete .*python-torch.failed/)
    const hash = await bash('recipe_hash python-torch')
    expect(await readFile(join(stateDir, 'build', 'python-torch.failed'), 'utf8')).toBe(hash.stdout)
  })

  it('should end setup when a required image does not build', async () => {
    const outcome = await failingBuild('node')
    expect(outcome.code).toBe(1)
    expect(outcome.stdout).toBe('')
    expect(outcome.stderr).toMatch(/ERROR: building the root filesystem of node failed/)
  })
})

describe('the optional images left to a build in the background', () => {
  /** ensure_runtime_images with no image present, each image's own step only recorded. */
  const scoped = (scope: string) =>
    bash(
      [
        'list_runtime_images() { :; }',
        'ensure_runtime_image() { echo "ensure $1"; }',
        'ensure_runtime_images',
        'echo "deferred ${DEFERRED_IMAGES[*]:-none}"',
      ].join('\n'),
      [],
      { IMAGES_SCOPE: scope },
    )

  it('should make the required images and defer a missing optional one when scoped so', async () => {
    const outcome = await scoped('required')
    expect(outcome.code, outcome.stderr).toBe(0)
    expect(outcome.stdout).toBe('ensure bash\nensure python\nensure node\ndeferred python-torch\n')
    expect(outcome.stderr).toMatch(/left to build in the background: python-torch/)
  })

  it('should make only the optional images when the background build runs', async () => {
    const outcome = await scoped('optional')
    expect(outcome.stdout).toBe('ensure python-torch\ndeferred none\n')
  })

  it('should make every image, none deferred, when not scoped', async () => {
    const outcome = await scoped('all')
    expect(outcome.stdout).toBe(
      'ensure bash\nensure python\nensure node\nensure python-torch\ndeferred none\n',
    )
  })

  it('should wait for another setup building the same optional image', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'gridx-state-'))
    try {
      await mkdir(join(stateDir, 'build'), { recursive: true })
      const lock = join(stateDir, 'build', 'python-torch.lock')
      // Another setup holds the build's lock for a second, then lets go.
      const holder = run('flock', [lock, 'sleep', '1'])
      await new Promise((resolve) => setTimeout(resolve, 200))
      const started = performance.now()
      const outcome = await bash('lock_image_build python-torch; echo locked', [], {
        GRIDX_STATE_DIR: stateDir,
      })
      const waited = performance.now() - started
      await holder
      expect(outcome.stdout).toBe('locked\n')
      expect(outcome.stderr).toMatch(/another setup is building the python-torch image; waiting/)
      expect(waited).toBeGreaterThan(500)
    } finally {
      await rm(stateDir, { recursive: true, force: true })
    }
  })
})

/** Why the engine cannot be asked, or null when it answers. */
async function engineProblem(): Promise<string | null> {
  try {
    await run('docker', ['info', '--format', '{{.ID}}'], { timeout: 10_000 })
    return null
  } catch (error) {
    return `no Docker engine: ${String(error)}`
  }
}

const problem = await engineProblem()
const describeEngine =
  problem === null || process.env.GRIDX_REQUIRE_DOCKER === '1' ? describe : describe.skip

describeEngine(`runtime images built by setup${problem === null ? '' : ` (${problem})`}`, () => {
  it('should find a Docker engine when GRIDX_REQUIRE_DOCKER=1', () => {
    expect(problem).toBeNull()
  })

  it.each(RUNTIMES)(
    'should tag gridx/runtime-%s:latest with the current recipe version',
    async (name) => {
      const outcome = await bash(
        'tag=gridx/runtime-$1; hash=$(recipe_hash "$1")\n' +
          'docker image inspect -f \'{{index .Config.Labels "gridx.recipe"}}\' "$tag:latest"\n' +
          'docker image inspect -f \'{{index .Config.Labels "gridx.runtime"}}\' "$tag:$hash"\n' +
          'echo "$hash"',
        [name],
      )
      expect(outcome.code, outcome.stderr).toBe(0)
      const [latestRecipe, runtime, hash] = outcome.stdout.trim().split('\n')
      expect(runtime).toBe(name)
      expect(latestRecipe).toBe(hash)
    },
  )
})
