#!/usr/bin/env python3
"""Creates the nftables table and chains miniupnpd's nftables back end adds its rules to.

miniupnpd 2.3 (Debian's miniupnpd-nftables) expects table 'inet filter' with the chains 'miniupnpd',
'prerouting_miniupnpd' and 'postrouting_miniupnpd'. Debian's nft_init.sh creates them with the nft
tool; this does the same with a few netlink messages (Python's standard library only), for machines
without the nft tool. Run it inside the gateway's network namespace: ip netns exec NS python3 this.py
Exit codes: 0 created (or already there), 1 the kernel refused.
"""
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END = 0x10, 0x11
NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN = 0, 3
NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME = 1, 1, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE = 0x1, 0x4, 0x400
NLMSG_ERROR = 2
NFPROTO_INET = 1

TABLE = "filter"
CHAINS = ["miniupnpd", "prerouting_miniupnpd", "postrouting_miniupnpd"]


def attribute(kind, text):
    payload = text.encode() + b"\0"
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * (-length % 4)


def message(kind, flags, sequence, family, body=b"", resource=0):
    payload = struct.pack("=BBH", family, 0, socket.htons(resource)) + body
    return struct.pack("=IHHII", 16 + len(payload), kind, flags, sequence, 0) + payload


def main():
    create = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK
    batch = [message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 1, 0, resource=NFNL_SUBSYS_NFTABLES),
             message(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, create, 2, NFPROTO_INET, attribute(NFTA_TABLE_NAME, TABLE))]
    for i, chain in enumerate(CHAINS):
        body = attribute(NFTA_CHAIN_TABLE, TABLE) + attribute(NFTA_CHAIN_NAME, chain)
        batch.append(message(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWCHAIN, create, 3 + i, NFPROTO_INET, body))
    batch.append(message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 3 + len(CHAINS), 0, resource=NFNL_SUBSYS_NFTABLES))

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    sock.settimeout(5)
    sock.send(b"".join(batch))
    expected = 1 + len(CHAINS)
    acknowledged = 0
    try:
        while acknowledged < expected:
            data = sock.recv(65536)
            offset = 0
            while offset < len(data):
                length, kind, _, sequence, _ = struct.unpack_from("=IHHII", data, offset)
                if kind == NLMSG_ERROR:
                    error = struct.unpack_from("=i", data, offset + 16)[0]
                    if error != 0:
                        print(f"ERROR netlink refused message {sequence}: errno {-error}", file=sys.stderr)
                        sys.exit(1)
                    acknowledged += 1
                offset += (length + 3) & ~3
    except socket.timeout:
        print(f"ERROR no acknowledgement from the kernel ({acknowledged} of {expected})", file=sys.stderr)
        sys.exit(1)
    print(f"created table inet {TABLE} with chains {', '.join(CHAINS)}")


if __name__ == "__main__":
    main()
