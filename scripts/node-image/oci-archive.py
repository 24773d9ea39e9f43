#!/usr/bin/env python3
"""A directory as a one-layer OCI image archive that `ctr images import` reads: no registry, no Docker.
usage: oci-archive.py ROOTFS NAME ENTRYPOINT_JSON OUT.tar  (NAME like localhost/kube-heapdump/pause:1)
Files are owned by root in the layer; timestamps are zeroed so the same ROOTFS gives the same digest."""
import gzip, hashlib, io, json, os, sys, tarfile

rootfs, name, entrypoint, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]

def normalize(info):
    info.uid = info.gid = 0
    info.uname = info.gname = ''
    info.mtime = 0
    return info

raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as layer:
    for entry in sorted(os.listdir(rootfs)):
        layer.add(os.path.join(rootfs, entry), arcname=entry, filter=normalize)
diff_id = 'sha256:' + hashlib.sha256(raw.getvalue()).hexdigest()
layer_gz = gzip.compress(raw.getvalue(), mtime=0)

def blob(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest(), data

config = json.dumps({
    'architecture': 'amd64', 'os': 'linux',
    'config': {'Entrypoint': entrypoint, 'Env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']},
    'rootfs': {'type': 'layers', 'diff_ids': [diff_id]},
}, sort_keys=True).encode()
config_digest, _ = blob(config)
layer_digest, _ = blob(layer_gz)
manifest = json.dumps({
    'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
    'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': config_digest, 'size': len(config)},
    'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': layer_digest, 'size': len(layer_gz)}],
}, sort_keys=True).encode()
manifest_digest, _ = blob(manifest)
index = json.dumps({'schemaVersion': 2, 'manifests': [{
    'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': manifest_digest, 'size': len(manifest),
    'annotations': {'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.rsplit(':', 1)[1]},
}]}).encode()

with tarfile.open(out + '.partial', 'w') as archive:
    def add(path, data):
        info = tarfile.TarInfo(path)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    add('oci-layout', b'{"imageLayoutVersion":"1.0.0"}')
    add('index.json', index)
    for digest, data in ((config_digest, config), (layer_digest, layer_gz), (manifest_digest, manifest)):
        add('blobs/sha256/' + digest.split(':')[1], data)
os.replace(out + '.partial', out)
