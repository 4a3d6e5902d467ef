import Foundation
import Hummingbird
import Logging
import NIOCore
import OrderlineCore

/// `serve --http <host>:<port>`: Hummingbird on the engine's own event loop, beside the
/// RESP port. `GET /metrics` (Prometheus text, `ServerMetrics`), `GET /healthz`
/// (200 when serving; 503 while recovering or after a write failure, with the reason
/// as JSON), and the operations page `GET /` with the JSON it reads (`GET /api/…`,
/// `OperationsAPI`). Handlers only read: what they need is gathered in one task on the loop,
/// which they never block. With `--auth`, every request needs
/// `Authorization: Bearer <token>` of a role that may read the whole server (admin,
/// ops, viewer).
struct HTTPSideListener {
    let host: String
    let port: Int
    let eventLoop: any EventLoop
    let tokens: [String: Role]?
    let metrics: ServerMetrics
    let slot: ServingSlot
    let statistics: ServerStatistics
    let replication: NIOLoopBound<Replication>
    let logger: Logger

    /// The application to run (a ServiceLifecycle service); `onRunning` is told the port.
    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        let tokens = tokens
        router.add(middleware: BearerTokenCheck(tokens: tokens))
        router.get("metrics") { _, _ -> Response in
            let snapshot = try await self.snapshot()
            let body = ByteBuffer(bytes: self.metrics.exposition(after: snapshot, statistics: self.statistics))
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: body))
        }
        // The operations page: its script reads the API below, with the token it asks for.
        router.get("/") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: OperationsPage.html)))
        }
        let api = OperationsAPI(eventLoop: eventLoop, slot: slot, statistics: statistics, requests: metrics.requests)
        router.get("api/overview") { _, _ -> Response in
            Self.json(.ok, try await api.overview())
        }
        router.get("api/sku/:id") { _, context -> Response in
            let answer = try await api.sku(Self.id(in: context))
            return Self.json(answer.found ? .ok : .notFound, answer.json)
        }
        router.get("api/order/:id") { _, context -> Response in
            let answer = try await api.order(Self.id(in: context))
            return Self.json(answer.found ? .ok : .notFound, answer.json)
        }
        router.get("healthz") { _, _ -> Response in
            let health = try await self.health()
            return Response(
                status: health.ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: health.json)))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "orderline"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            eventLoopGroupProvider: .shared(eventLoop),
            logger: logger)
    }

    /// The `:id` of the path, decoded: ids may hold characters a browser
    /// percent-encodes (`:`), and Hummingbird leaves path parameters encoded.
    private static func id(in context: some RequestContext) -> String {
        let raw = context.parameters.get("id") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Read on the loop, in one task.
    private func snapshot() async throws -> MetricsSnapshot {
        let (slot, replication) = (slot, replication)
        return try await eventLoop.submit {
            var snapshot = MetricsSnapshot()
            guard let engine = slot.serving?.engine else { return snapshot }
            engine.assumeIsolated { engine in
                snapshot.ready = engine.failure == nil
                snapshot.wal = engine.wal.statistics
                snapshot.reservationsHeld = engine.state.parts.reduce(0) { $0 + $1.reservations.count }
                snapshot.ordersByStatus = engine.state.home.kpis.ordersByStatus
                snapshot.soldOutReplies = engine.soldOutReplies
                snapshot.lastSnapshotLSN = engine.lastSnapshotLSN
                if let written = engine.lastSnapshotWritten {
                    snapshot.lastSnapshotSeconds = written.duration / .seconds(1)
                    snapshot.lastSnapshotAgeSeconds = (ContinuousClock.now - written.at) / .seconds(1)
                }
                snapshot.isReplica = engine.isReplica
                let followers = replication.value.followers.values
                snapshot.replicasConnected = followers.count
                snapshot.replicaLagMax = followers.map { Int64(engine.lsn) - Int64($0.acknowledged) }.max() ?? 0
            }
            return snapshot
        }.get()
    }

    private struct Health {
        var ready: Bool
        var json: String
    }

    private func health() async throws -> Health {
        let slot = slot
        return try await eventLoop.submit {
            var object = JSONObject()
            guard let engine = slot.serving?.engine else {
                object.add("status", "loading")
                object.add("reason", "the server is replaying its log")
                return Health(ready: false, json: object.json)
            }
            return engine.assumeIsolated { engine in
                if let failure = engine.failure {
                    object.add("status", "failed")
                    object.add("reason", "the log cannot be written: \(failure.message)")
                    object.add("lsn", engine.lsn)
                    return Health(ready: false, json: object.json)
                }
                object.add("status", "ready")
                object.add("role", engine.isReplica ? "replica" : "primary")
                object.add("lsn", engine.lsn)
                return Health(ready: true, json: object.json)
            }
        }.get()
    }
}

/// With `--auth`: `Authorization: Bearer <token>` of admin, ops or viewer, or 401.
struct BearerTokenCheck<Context: RequestContext>: RouterMiddleware {
    let tokens: [String: Role]?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The page itself holds no data: it asks for a token and sends it with each read.
        guard let tokens, request.uri.path != "/" else { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), let role = tokens[String(header.dropFirst("Bearer ".count))] else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"], body: .init(byteBuffer: ByteBuffer(string: "a bearer token is needed\n")))
        }
        guard role.readsWholeServer else {
            return Response(status: .forbidden, body: .init(byteBuffer: ByteBuffer(string: "\(role) may not read the server's metrics\n")))
        }
        return try await next(request, context)
    }
}
