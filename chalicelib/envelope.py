"""Envelope encryption with KMS: a fresh AES-256 data key per value, from KMS
GenerateDataKey, encrypts the value with AES-GCM; only the data key wrapped by KMS is kept.

The encryption context (customer number and item id) is bound twice: KMS binds it to the
wrapped key (Decrypt with any other context fails, and CloudTrail records it), and AES-GCM
takes it as associated data. A sealed value copied to another customer's item therefore
fails to open. Sealing needs kms:GenerateDataKey only; opening needs kms:Decrypt, which
only the ops functions that reveal or disclose hold.

Takes its KMS client as an argument (aws.kms_client on AWS and the local stack).
`cryptography` is imported on first use: only the routes that seal pay for it.
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

NONCE_BYTES = 12


class Sealed(NamedTuple):
    wrapped_key: bytes  # the data key, encrypted by KMS under the context
    nonce: bytes
    ciphertext: bytes  # AES-256-GCM of the value, tag included


class UnsealFailed(Exception):
    """The sealed value does not open under this context (moved, tampered with, or its key is gone)."""


def _associated_data(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


def seal(client: Any, key_id: str, plaintext: str, context: dict[str, str]) -> Sealed:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    data_key = client.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=context)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key["Plaintext"]).encrypt(nonce, plaintext.encode(), _associated_data(context))
    return Sealed(data_key["CiphertextBlob"], nonce, ciphertext)


def unseal(client: Any, key_id: str, sealed: Sealed, context: dict[str, str]) -> str:
    from botocore.exceptions import ClientError
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        data_key = client.decrypt(KeyId=key_id, CiphertextBlob=sealed.wrapped_key, EncryptionContext=context)
        plaintext = AESGCM(data_key["Plaintext"]).decrypt(sealed.nonce, sealed.ciphertext, _associated_data(context))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("InvalidCiphertextException", "IncorrectKeyException"):
            raise
        raise UnsealFailed("the sealed value does not open under this context") from None
    except InvalidTag:
        raise UnsealFailed("the sealed value does not open under this context") from None
    return plaintext.decode()
