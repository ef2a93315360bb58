"""Protocol core micro-benchmarks: microseconds per call, median of several runs.

    python bench/protocol.py [--runs 7] [--number 20000]

Measures (1) parse + verify of the official subscribe-scan push in plain mode (signature
check, timestamp, hardened XML parse into a typed event), (2) the same push opened in safe
mode (msg_signature + AES + parse), and (3) AES decrypt of a 1 KiB message.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

from wxqr.protocol import AccountKeys, EncryptMode, MessageCrypto, open_push, seal_push

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import add_output_flag, emit, spread

TOKEN = "pamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxb11529c136998cb6"
PUSH = (
    b"<xml><ToUserName><![CDATA[gh_45072270791c]]></ToUserName>\n"
    b"<FromUserName><![CDATA[o7Lp5t6n59DeX3U0C7Kric9qEx-Q]]></FromUserName>\n"
    b"<CreateTime>1389684286</CreateTime><MsgType><![CDATA[event]]></MsgType>\n"
    b"<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_1000]]></EventKey>\n"
    b"<Ticket><![CDATA[gQHi8DoAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL0UweTNxNi1sdlA3RklyRnNK"
    b"bUFvAAIELdnUUgMEAAAAAA==]]></Ticket></xml>"
)


def cases() -> dict[str, Callable[[], object]]:
    plain = AccountKeys(APPID, TOKEN)
    safe = AccountKeys(APPID, TOKEN, AES_KEY, EncryptMode.SAFE)
    plain_push = seal_push(PUSH, plain, timestamp=1389684286, nonce="123")
    safe_push = seal_push(PUSH, safe, timestamp=1389684286, nonce="123")
    crypto = MessageCrypto(AES_KEY, APPID)
    kib = crypto.encrypt("x" * 1024)
    return {
        "parse + verify subscribe (plain)": lambda: open_push(
            plain_push.body, plain_push.query, plain, max_age=0
        ),
        "parse + verify + decrypt subscribe (safe)": lambda: open_push(
            safe_push.body, safe_push.query, safe, max_age=0
        ),
        "AES decrypt 1 KiB message": lambda: crypto.decrypt(kib),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--number", type=int, default=20_000)
    add_output_flag(parser)
    args = parser.parse_args()
    rows = []
    for name, func in cases().items():
        timings = timeit.repeat(func, number=args.number, repeat=args.runs)
        per_call = spread([t / args.number * 1e6 for t in timings])
        rows.append({"case": name, "µs/call median (range)": per_call.format()})
    emit(rows, args)


if __name__ == "__main__":
    main()
