"""The local stack: DynamoDB Local, a moto-based AWS stand-in for SES and KMS, table
creation from infra/tables.json, the scheduler, `invoke` and `outbox`.

Local development and tests only; never packaged into the Lambda zip.
"""
