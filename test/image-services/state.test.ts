import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, sandbox } from '../cli/run-cli.js'
import { buildImage, removeLayout } from '../images/build-images.js'
import { layerOf } from '../images/raw-push.js'
import {
  CAN_RUN_IMAGES,
  HAVE_IMAGE_TOOLS,
  ImageProject,
  publish,
  startRegistry,
  type LocalRegistry,
} from './harness.js'

const DOCKER = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0

function json<T>(stdout: string): T {
  return (JSON.parse(stdout) as { result: T }).result
}

describe.skipIf(!HAVE_IMAGE_TOOLS || !CAN_RUN_IMAGES)(
  "an image service's state: commit, export, import, snapshots",
  () => {
    let registry: LocalRegistry
    let home: string
    let image: string

    beforeAll(async () => {
      registry = await startRegistry()
      home = sandbox('devenv-image-state-home-')
      image = publish(registry, 'tools/base:1', {
        files: { 'etc/doomed': 'delete me\n', 'srv/old/a': 'from the image\n' },
        config: { cmd: ['sleep', '1000'] },
      })
    }, 60_000)

    afterAll(async () => {
      await registry?.stop()
      cleanSandboxes()
    })

    it('commit makes an image of the writable layer (deletions included) that another project runs with image:', async () => {
      const first = new ImageProject(home).write(`name: maker\nservices:\n  box:\n    image: ${image}\n`)
      const second = new ImageProject(home).write(`name: user\nservices:\n  copy:\n    image: mine/committed:1\n`)
      try {
        expect((await first.run(['up', '--no-hosts'])).exitCode).toBe(0)
        const change = await first.run([
          'exec',
          'box',
          '--',
          'sh',
          '-c',
          'echo kept > /srv-made && rm /etc/doomed && rm -r /srv/old && mkdir /srv/old && echo new > /srv/old/c',
        ])
        expect(change.exitCode, change.stderr).toBe(0)
        const committed = await first.run(['commit', 'box', 'mine/committed:1', '--json'])
        expect(committed.exitCode, committed.stdout + committed.stderr).toBe(0)
        expect(json<{ image: { name: string; layers: string[]; base: string } }>(committed.stdout).image).toMatchObject(
          { name: 'docker.io/mine/committed:1', base: image },
        )
        // The service was stopped for the commit and started again.
        expect(first.state().services.box!.state).toBe('running')

        const up = await second.run(['up', '--no-hosts'])
        expect(up.exitCode, up.stdout + up.stderr).toBe(0)
        const seen = await second.run([
          'exec',
          'copy',
          '--',
          'sh',
          '-c',
          'cat /srv-made; test -e /etc/doomed && echo still there || echo deleted; ls /srv/old',
        ])
        expect(seen.stdout.trim().split('\n')).toEqual(['kept', 'deleted', 'c'])
      } finally {
        await first.run(['down', '--no-hosts'])
        await second.run(['down', '--no-hosts'])
      }
    })

    it('export writes an OCI layout archive skopeo reads; import takes one skopeo wrote', async () => {
      const work = sandbox('devenv-image-archives-')
      const project = new ImageProject(home)
      const archive = path.join(work, 'committed.tar')
      const exported = await project.run(['image', 'export', 'mine/committed:1', '-o', archive, '--json'])
      expect(exported.exitCode, exported.stdout + exported.stderr).toBe(0)
      const inspected = JSON.parse(
        execFileSync('skopeo', ['inspect', `oci-archive:${archive}`], { encoding: 'utf8' }),
      ) as { Layers: string[] }
      expect(inspected.Layers.length).toBe(2)
      execFileSync('skopeo', ['copy', '--quiet', `oci-archive:${archive}`, `oci:${path.join(work, 'copied')}:t`])
      if (DOCKER) {
        // docker load reads it too (its manifest.json), and runs what it loaded.
        const loaded = execFileSync('docker', ['load', '-i', archive], { encoding: 'utf8' })
        expect(loaded).toContain('mine/committed:1')
        try {
          const ran = execFileSync(
            'docker',
            ['run', '--rm', '--network', 'none', 'mine/committed:1', 'cat', '/srv-made'],
            { encoding: 'utf8' },
          )
          expect(ran).toBe('kept\n')
        } finally {
          execFileSync('docker', ['rmi', '-f', 'mine/committed:1'], { stdio: 'ignore' })
        }
      }

      const layout = buildImage({ files: { 'etc/from-skopeo': 'yes\n' }, config: { cmd: ['sleep', '1000'] } })
      const made = path.join(work, 'made.tar')
      execFileSync('skopeo', ['copy', '--quiet', `oci:${layout}:t`, `oci-archive:${made}:t`])
      removeLayout(layout)
      const imported = await project.run(['image', 'import', made, '--name', 'team/app:dev', '--json'])
      expect(imported.exitCode, imported.stdout + imported.stderr).toBe(0)
      expect(json<{ images: string[] }>(imported.stdout).images).toEqual(['docker.io/team/app:dev'])
      const listed = json<{ images: Array<{ name: string }> }>((await project.run(['image', 'ls', '--json'])).stdout)
      expect(listed.images.map((entry) => entry.name)).toContain('docker.io/team/app:dev')

      // An archive with anything but the layout's own files is refused whole.
      const { gz } = await layerOf([{ name: 'x', content: 'x' }])
      const hostile = path.join(work, 'hostile.tar')
      const entries = execFileSync('tar', ['-tf', made], { encoding: 'utf8' })
      expect(entries).toContain('index.json')
      writeFileSync(path.join(work, 'evil'), gz)
      execFileSync('tar', ['-cf', hostile, '-C', work, '--transform', 's,^evil,../../evil,', 'evil'])
      const refused = await project.run(['image', 'import', hostile, '--json'])
      expect(refused.exitCode).toBe(1)
      expect(JSON.parse(refused.stdout).error.message).toContain('refused image archive')
    })

    it('snapshot save and restore cover the writable layer', async () => {
      const project = new ImageProject(home).write(`name: snaps\nservices:\n  box:\n    image: ${image}\n`)
      try {
        expect((await project.run(['up', '--no-hosts'])).exitCode).toBe(0)
        expect(
          (
            await project.run([
              'exec',
              'box',
              '--',
              'sh',
              '-c',
              'echo good > /state; rm /etc/doomed; rm -r /srv/old; mkdir /srv/old; echo new > /srv/old/c',
            ])
          ).exitCode,
        ).toBe(0)
        const saved = await project.run(['snapshot', 'save', 'box', 'good'])
        expect(saved.exitCode, saved.stdout + saved.stderr).toBe(0)
        expect(
          (
            await project.run([
              'exec',
              'box',
              '--',
              'sh',
              '-c',
              'echo broken > /state; echo back > /etc/doomed; echo extra > /srv/old/d',
            ])
          ).exitCode,
        ).toBe(0)
        // The layer belongs to its image: over another image, a restore is refused.
        project.write(`name: snaps\nservices:\n  box:\n    image: other/image:1\n`)
        const elsewhere = await project.run(['snapshot', 'restore', 'box', 'good'])
        expect(elsewhere.exitCode).not.toBe(0)
        expect(elsewhere.stderr).toContain(`was taken from box ${image}`)
        project.write(`name: snaps\nservices:\n  box:\n    image: ${image}\n`)
        const restored = await project.run(['snapshot', 'restore', 'box', 'good'])
        expect(restored.exitCode, restored.stdout + restored.stderr).toBe(0)
        // The deletion (a whiteout in the writable layer) is part of the saved state too.
        const seen = await project.run([
          'exec',
          'box',
          '--',
          'sh',
          '-c',
          'cat /state; test -e /etc/doomed && echo back || echo deleted; ls /srv/old',
        ])
        expect(seen.stdout.trim().split('\n')).toEqual(['good', 'deleted', 'c'])
      } finally {
        await project.run(['down', '--no-hosts'])
      }
    })
  },
)
