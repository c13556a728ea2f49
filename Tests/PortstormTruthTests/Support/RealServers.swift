import Foundation

/// Real third-party servers started in the server namespace with files the test writes.
extension TruthNet {
    /// Debian's nginx, one worker, every path (pid, logs, temp dirs) in the test's directory: /ok
    /// answers 200, /missing 404, /down 503, anything else 404. On `port` it closes each connection
    /// after its answer (`keepalive_timeout 0`); on `port + 1` it keeps connections open for the
    /// client to close.
    @discardableResult
    func startNginx(_ nginx: String, port: UInt16) throws -> Server {
        try startNginx(nginx, in: "nginx", listeningOn: port, servers: """
              server {
                listen \(TruthNet.serverIP):\(port) backlog=4096;
                location /ok { return 200 "ok\\n"; }
                location /missing { return 404; }
                location /down { return 503; }
                location / { return 404; }
              }
              server {
                listen \(TruthNet.serverIP):\(port + 1) backlog=4096;
                keepalive_timeout 60s;
                location /ok { return 200 "ok\\n"; }
              }
            """)
    }

    /// nginx with one worker and every path (pid, logs, temp dirs) in `folder` of the test's
    /// directory, no access log, `keepalive_timeout 0` unless a server block says otherwise, and
    /// `servers` (server blocks) in its http block; started once it listens on `port`.
    func startNginx(_ nginx: String, in folder: String, listeningOn port: UInt16, servers: String) throws -> Server {
        let root = dir.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let p = root.path
        let conf = """
            worker_processes 1;
            pid \(p)/nginx.pid;
            error_log \(p)/error.log warn;
            events { worker_connections 1024; }
            http {
              access_log off;
              keepalive_timeout 0;
              client_body_temp_path \(p)/body;
              proxy_temp_path \(p)/proxy;
              fastcgi_temp_path \(p)/fastcgi;
              uwsgi_temp_path \(p)/uwsgi;
              scgi_temp_path \(p)/scgi;
            \(servers)
            }
            """
        try conf.write(to: root.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        return try startServer([nginx, "-p", p, "-c", "\(p)/nginx.conf", "-e", "\(p)/error.log", "-g", "daemon off;"],
                               listeningOn: port)
    }

    /// A WebSocket echo server on the python `websockets` package (the asyncio API of 13+, or the
    /// legacy one of Debian's 10.x), over TLS with `tls`. For each connection it prints `close-ok`
    /// when the client ended it with a Close frame, `close-error ...` when it did not.
    @discardableResult
    func startWebSocketServer(_ python: String, port: UInt16, tls: TLSFiles? = nil) throws -> Server {
        let script = dir.appendingPathComponent("ws_server.py")
        try """
            import asyncio, ssl, sys
            import websockets
            try:
                from websockets.asyncio.server import serve
            except ImportError:
                from websockets.server import serve

            async def handler(ws, *_):
                try:
                    async for message in ws:
                        await ws.send(message)
                    print("close-ok", flush=True)
                except websockets.ConnectionClosedError as e:
                    print("close-error", e, flush=True)

            async def main():
                context = None
                if len(sys.argv) > 4:
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    context.load_cert_chain(sys.argv[3], sys.argv[4])
                async with serve(handler, sys.argv[1], int(sys.argv[2]), ssl=context, backlog=1024):
                    await asyncio.sleep(120)

            asyncio.run(main())
            """.write(to: script, atomically: true, encoding: .utf8)
        let files = tls.map { [$0.leafCert, $0.leafKey] } ?? []
        return try startServer([python, "-u", script.path, TruthNet.serverIP, "\(port)"] + files, listeningOn: port)
    }

    /// A TCP server in plain python that answers every connection with a status line and then
    /// header lines that never end (up to 16 MiB, or until the client goes away).
    @discardableResult
    func startEndlessHeaderServer(_ python: String, port: UInt16) throws -> Server {
        let script = dir.appendingPathComponent("endless_headers.py")
        try """
            import socket, sys, threading

            def answer(conn):
                line = b"X-Filler: " + b"a" * 1000 + b"\\r\\n"
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\\r\\n")
                    for _ in range(16 * 1024):
                        conn.sendall(line)
                except OSError:
                    pass
                finally:
                    conn.close()

            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((sys.argv[1], int(sys.argv[2])))
            s.listen(128)
            while True:
                conn, _ = s.accept()
                threading.Thread(target=answer, args=(conn,), daemon=True).start()
            """.write(to: script, atomically: true, encoding: .utf8)
        return try startServer([python, "-u", script.path, TruthNet.serverIP, "\(port)"], listeningOn: port)
    }
}
