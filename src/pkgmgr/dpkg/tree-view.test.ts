import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { FileTree, TreeFile } from '../types.js';
import { parentPrefixes, toTreePath, TreeView } from './tree-view.js';

/** A merged file system held in memory, counting the passes made over it. */
function memoryTree(files: Omit<TreeFile, 'mode' | 'uid' | 'gid'>[]) {
  const byPath = new Map(files.map((f) => [f.path, { mode: 0o755, uid: 0, gid: 0, ...f }]));
  const tree: FileTree & { passes: number } = {
    passes: 0,
    async readFiles(select) {
      tree.passes += 1;
      return new Map([...byPath].filter(([p]) => select(p)));
    },
  };
  return tree;
}

describe('tree view', () => {
  it('toTreePath() and parentPrefixes() turn package paths into tree paths', () => {
    assert.equal(toTreePath('/usr/bin/x'), 'usr/bin/x');
    assert.equal(toTreePath('/.'), '');
    assert.equal(toTreePath('./etc/'), 'etc');
    assert.deepEqual(parentPrefixes('a/b/c'), ['a', 'a/b']);
  });

  it('canonicalise() resolves usrmerge links and absolute targets inside the root', async () => {
    const tree = memoryTree([
      { path: 'bin', type: 'symlink', target: 'usr/bin' },
      { path: 'lib', type: 'symlink', target: '/usr/lib' },
      { path: 'usr', type: 'directory' },
      { path: 'usr/bin', type: 'directory' },
      { path: 'usr/lib', type: 'directory' },
      { path: 'usr/lib/ssl', type: 'directory' },
      { path: 'usr/lib/ssl/certs', type: 'symlink', target: '../../../etc/ssl/certs' },
      { path: 'etc', type: 'directory' },
    ]);
    const view = new TreeView(tree);
    const out = await view.canonicalise(['bin/ping', 'lib/x86/libc.so.6', 'lib/ssl/certs/a.pem']);
    assert.equal(out.get('bin/ping'), 'usr/bin/ping');
    assert.equal(out.get('lib/x86/libc.so.6'), 'usr/lib/x86/libc.so.6');
    assert.equal(out.get('lib/ssl/certs/a.pem'), 'etc/ssl/certs/a.pem');
    assert.ok(tree.passes <= 3, `${tree.passes} passes`);
  });

  it('canonicalise() keeps a path whose parents do not exist', async () => {
    const view = new TreeView(memoryTree([]));
    const out = await view.canonicalise(['opt/new/file']);
    assert.equal(out.get('opt/new/file'), 'opt/new/file');
  });

  it('canonicalise() throws PATCH_FAILED on a symlink loop', async () => {
    const view = new TreeView(
      memoryTree([
        { path: 'a', type: 'symlink', target: 'b' },
        { path: 'b', type: 'symlink', target: 'a' },
      ]),
    );
    await assert.rejects(view.canonicalise(['a/x']), { code: 'PATCH_FAILED' });
  });
});
