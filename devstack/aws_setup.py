"""What the AWS stand-in must hold, re-created at every start (moto keeps nothing):
the SES sender identity (and configuration set), the KMS data key and the campaign
segment queue."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from .config import KMS_KEY_MATERIAL_FILE, url

KMS_ALIAS = "alias/pledge-local-data"
# moto writes the key id into every ciphertext blob: it must be the same after a restart.
KMS_KEY_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://pledge.local/kms/pledge-local-data"))
DEFAULT_MAIL_FROM = "privacy@hostbay.example"
MOTO_ACCOUNT = "123456789012"


def campaign_queue_url(port: int, table_prefix: str) -> str:
    """The stand-in's URL of the queue the marketing dispatcher hands segments out on (one
    per table prefix, as each stage has its own)."""
    return f"{url(port)}/{MOTO_ACCOUNT}/{table_prefix}campaign-segments"


def ensure_queue(client, queue_url: str) -> None:
    """Create the queue `queue_url` names. Idempotent."""
    client.create_queue(QueueName=queue_url.rsplit("/", 1)[1], Attributes={"VisibilityTimeout": "960"})


def aws_client(service: str, port: int):
    import boto3

    return boto3.client(
        service,
        endpoint_url=url(port),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def ensure_ses(client, mail_from: str = DEFAULT_MAIL_FROM, configuration_set: str = "") -> None:
    """Create the sender identity (the domain of mail_from) and, when named, the
    configuration set. Idempotent."""
    domain = mail_from.rsplit("@", 1)[-1].strip(">").strip()
    for identity in {domain, mail_from}:
        try:
            client.create_email_identity(EmailIdentity=identity)
        except client.exceptions.AlreadyExistsException:
            pass
    if configuration_set:
        try:
            client.create_configuration_set(ConfigurationSetName=configuration_set)
        except client.exceptions.AlreadyExistsException:
            pass
        except Exception as exc:  # the stand-in may not emulate it: sending works without
            print(f"devstack: SES configuration set {configuration_set!r} not created locally ({exc})")


def key_material(path: Path = KMS_KEY_MATERIAL_FILE) -> bytes:
    """32 random bytes generated once and kept in `path`."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(os.urandom(32))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    material = path.read_bytes()
    if len(material) != 32:
        raise ValueError(f"{path} must hold exactly 32 bytes")
    return material


def ensure_kms_key(client, material_path: Path = KMS_KEY_MATERIAL_FILE) -> str:
    """Make alias/pledge-local-data point at a key with a stable id and the key material
    of `material_path` (created with Origin=EXTERNAL and imported, as on AWS).
    Idempotent. Returns the alias to give the app as PLEDGE_KMS_KEY_ID."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        client.describe_key(KeyId=KMS_ALIAS)
        return KMS_ALIAS
    except client.exceptions.NotFoundException:
        pass
    material = key_material(material_path)
    try:
        client.create_key(
            Origin="EXTERNAL",
            Description="Pledge local data key",
            Tags=[{"TagKey": "_custom_id_", "TagValue": KMS_KEY_ID}],
        )
    except client.exceptions.AlreadyExistsException:
        pass
    params = client.get_parameters_for_import(
        KeyId=KMS_KEY_ID, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    public = serialization.load_der_public_key(params["PublicKey"])
    wrapped = public.encrypt(
        material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    )
    client.import_key_material(
        KeyId=KMS_KEY_ID,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    client.create_alias(AliasName=KMS_ALIAS, TargetKeyId=KMS_KEY_ID)
    return KMS_ALIAS


def setup_aws(
    port: int,
    *,
    mail_from: str = DEFAULT_MAIL_FROM,
    configuration_set: str = "",
    material_path: Path = KMS_KEY_MATERIAL_FILE,
    queue_url: str = "",
) -> str:
    """Everything the stand-in on `port` must hold. Returns the KMS key id for the app."""
    ensure_ses(aws_client("sesv2", port), mail_from, configuration_set)
    if queue_url:
        ensure_queue(aws_client("sqs", port), queue_url)
    return ensure_kms_key(aws_client("kms", port), material_path)
