"""The local AWS stand-in for SES and KMS: moto server, run as
`python -m devstack.awsserver -H 127.0.0.1 -p PORT`.

moto 5.2.5 lacks two things the local stack needs, added here before the server starts:
- KMS GetParametersForImport / ImportKeyMaterial (keys with Origin=EXTERNAL), so a key's
  material can be imported from a file under .local/ and survive restarts;
- the `_custom_id_` tag (moto's convention in other services) on KMS CreateKey, so the key
  id, which moto writes into every ciphertext blob, is the same after a restart.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from . import procs
from .config import HOST, REPO_ROOT, url

CUSTOM_ID_TAG = "_custom_id_"


def install_kms_patches() -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from moto.kms import exceptions, models, responses

    if getattr(models.KmsBackend, "_pledge_patched", False):
        return
    original_create_key = models.KmsBackend.create_key

    def create_key(self, policy, key_usage, key_spec, description, tags, multi_region=False, origin="AWS_KMS"):
        custom_id = next((t.get("TagValue") for t in tags or [] if t.get("TagKey") == CUSTOM_ID_TAG), None)
        if custom_id and custom_id in self.keys:
            raise exceptions.AlreadyExistsException(f"Key {custom_id} already exists")
        key = original_create_key(self, policy, key_usage, key_spec, description, tags, multi_region, origin)
        if custom_id:
            del self.keys[key.id]
            self.tagger.delete_all_tags_for_resource(key.id)
            key.id = custom_id
            key.arn = key.arn.rsplit("/", 1)[0] + "/" + custom_id
            self.keys[key.id] = key
            self.tagger.tag_resource(key.id, tags)
        if origin == "EXTERNAL":
            key.key_state = "PendingImport"
            key.enabled = False
        return key

    def _find_key(response):
        key_id = response._get_param("KeyId")
        try:
            return response.kms_backend.describe_key(key_id)
        except (KeyError, AttributeError, TypeError):
            raise exceptions.NotFoundException(f"Invalid keyId {key_id}") from None

    def get_parameters_for_import(self) -> str:
        key = _find_key(self)
        if key.origin != "EXTERNAL":
            raise exceptions.ValidationException(f"{key.arn} origin is not EXTERNAL")
        algorithm = self._get_param("WrappingAlgorithm")
        if algorithm not in ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"):
            raise exceptions.ValidationException(f"WrappingAlgorithm {algorithm} is not supported locally")
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = os.urandom(32)
        pending = self.kms_backend.__dict__.setdefault("_pledge_imports", {})
        pending[token] = (key.id, private, algorithm)
        public = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return json.dumps(
            {
                "KeyId": key.arn,
                "ImportToken": base64.b64encode(token).decode(),
                "PublicKey": base64.b64encode(public).decode(),
                "ParametersValidTo": time.time() + 86400,
            }
        )

    def import_key_material(self) -> str:
        key = _find_key(self)
        token = base64.b64decode(self._get_param("ImportToken"))
        pending = self.kms_backend.__dict__.get("_pledge_imports", {})
        if token not in pending or pending[token][0] != key.id:
            raise exceptions.ValidationException("ImportToken is not valid for this key")
        _, private, algorithm = pending.pop(token)
        digest = hashes.SHA256() if algorithm == "RSAES_OAEP_SHA_256" else hashes.SHA1()
        try:
            material = private.decrypt(
                base64.b64decode(self._get_param("EncryptedKeyMaterial")),
                padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None),
            )
        except ValueError:
            raise exceptions.InvalidCiphertextException() from None
        if len(material) != 32:
            raise exceptions.ValidationException("Key material must be 32 bytes (SYMMETRIC_DEFAULT)")
        key.key_material = material
        key.key_state = "Enabled"
        key.enabled = True
        return json.dumps({})

    models.KmsBackend.create_key = create_key
    responses.KmsResponse.get_parameters_for_import = get_parameters_for_import
    responses.KmsResponse.import_key_material = import_key_material
    models.KmsBackend._pledge_patched = True


def main(argv: list[str] | None = None) -> None:
    install_kms_patches()
    from moto.server import main as moto_main

    moto_main(argv)


def start_aws_server(
    port: int, *, log: Path | None = None, timeout: float = 60.0, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Start the AWS stand-in on `port`, wait until it answers, return the Popen."""
    cmd = [sys.executable, "-m", "devstack.awsserver", "-H", HOST, "-p", str(port)]
    proc = procs.start(cmd, cwd=REPO_ROOT, log=log, env=env)
    try:
        procs.wait_until(
            lambda: _answers(port), proc=proc, what=f"AWS stand-in (moto) on port {port}", timeout=timeout, log=log
        )
    except BaseException:
        procs.stop(proc)
        raise
    return proc


def _answers(port: int) -> bool:
    import urllib.request

    with urllib.request.urlopen(url(port) + "/moto-api/data.json", timeout=2) as response:
        return response.status == 200


if __name__ == "__main__":
    main()
