"""Lambda's SQS event source, locally: long-polls a queue-fed function's queue and runs
the function on each message, up to `concurrency` at once (on AWS: the event source's
maximum concurrency, the stack's `MarketingWorkers`). A message is deleted when the
function returns, and left to come back after its visibility timeout when it raises."""

from __future__ import annotations

import sys
import threading
import traceback
from typing import Any, TextIO

from .functions import ACCOUNT, REGION, FakeLambdaContext, Function


class QueuePoller:
    def __init__(
        self,
        function: Function,
        queue_url: str,
        client: Any,
        concurrency: int = 1,
        out: TextIO | None = None,
        timeout_ms: int = 900_000,
    ):
        self.function = function
        self.timeout_ms = timeout_ms  # each invocation's, as the function's Lambda timeout
        self.queue_url = queue_url
        self._client = client
        self._out = out or sys.stdout
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._poll, name=f"devstack-{function.name}-{i}", daemon=True)
            for i in range(max(1, concurrency))
        ]
        self.handled = 0
        self._lock = threading.Lock()

    def start(self) -> QueuePoller:
        print(f"queue: {self.function.name} on {self.queue_url} ({len(self._threads)} at once)", file=self._out)
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                received = self._client.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1, AttributeNames=["All"]
                )
            except Exception as exc:  # the stand-in is stopping or restarting: try again
                print(f"queue: {self.function.name}: receive failed: {type(exc).__name__}", file=self._out)
                self._stop.wait(1)
                continue
            for message in received.get("Messages", []):
                self._run(message)

    def _run(self, message: dict) -> None:
        queue_name = self.queue_url.rsplit("/", 1)[1]
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}",
            "awsRegion": REGION,
        }
        try:
            self.function.handler({"Records": [record]}, FakeLambdaContext(self.function.name, self.timeout_ms))
        except Exception:  # as Lambda: the message comes back after its visibility timeout
            print(f"queue: {self.function.name} failed on a message", file=self._out)
            traceback.print_exc(file=sys.stderr)
            return
        self._client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        with self._lock:
            self.handled += 1
