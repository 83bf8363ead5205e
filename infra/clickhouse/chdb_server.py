"""Serve the ClickHouse HTTP interface from chDB's libchdb.so (DESIGN.md §3).

Why Python: the engine's stack-depth check rejects queries run on a Node FFI thread,
and the C entry point never returns while the server listens. No signal handler is
installed on purpose: SIGTERM's default disposition is what stops this process.
Usage: chdb_server.py LIBCHDB_SO DATA_DIR HTTP_PORT
"""
import ctypes
import sys

lib_path, data_dir, port = sys.argv[1], sys.argv[2], sys.argv[3]
lib = ctypes.CDLL(lib_path)
args = [
    "clickhouse",
    f"--path={data_dir}",
    f"--http_port={port}",
    "--listen_host=127.0.0.1",
    # Keeps the engine's query, hence the process and its HTTP listener, alive.
    "--query=SYSTEM START LISTEN HTTP; SELECT sleepEachRow(1) FROM system.numbers SETTINGS max_block_size = 1 FORMAT Null",
]
argv = (ctypes.c_char_p * len(args))(*[a.encode() for a in args])
lib.chdb_query_cmdline.restype = ctypes.c_void_p
lib.chdb_query_cmdline(len(args), argv)
sys.exit(1)
