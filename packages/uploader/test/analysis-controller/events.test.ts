// Which Events the analysis controller takes (events.ts): the uploader's HeapDumpStored, the object it names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_ANNOTATIONS } from '@kube-heapdump/contract';
import { storedDumpOf } from '../../src/analysis-controller/events.ts';
import { dumpEvent } from '../../src/kube-event.ts';
import { noticeText } from '../../src/notify.ts';
import { KEY, NOTICE, POD } from './fixtures.ts';

describe('which Events', () => {
  const served = new Set(['shop']);
  const event = (n = NOTICE) => dumpEvent(POD, undefined, n, noticeText(POD, n), new Date());

  it("takes the uploader's HeapDumpStored Event in a served namespace, the object from its annotations", () => {
    assert.deepEqual(storedDumpOf(event(), served), {
      bucket: 'dumps',
      key: KEY,
      namespace: 'shop',
      pod: { name: POD.name },
    });
  });

  it('reads the object from the message when the Event has no annotations (older uploaders)', () => {
    const { metadata, ...rest } = event();
    const plain = { ...rest, metadata: { namespace: metadata.namespace } };
    assert.deepEqual(storedDumpOf(plain, served), {
      bucket: 'dumps',
      key: KEY,
      namespace: 'shop',
      pod: { name: POD.name },
    });
  });

  it('leaves incomplete dumps, other namespaces and other reasons alone', () => {
    assert.equal(storedDumpOf(event({ ...NOTICE, verdict: 'truncated' }), served), undefined);
    assert.equal(storedDumpOf(event(), new Set(['billing'])), undefined);
    assert.equal(storedDumpOf({ ...event(), reason: 'Pulled' }, served), undefined);
  });

  it('the annotations name the object exactly', () => {
    const a = event().metadata.annotations;
    assert.equal(a?.[EVENT_ANNOTATIONS.key], KEY);
    assert.equal(a?.[EVENT_ANNOTATIONS.bucket], 'dumps');
  });
});
