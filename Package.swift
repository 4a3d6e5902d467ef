// swift-tools-version: 6.0
import PackageDescription

// One module per layer: a pure core, storage (WAL, snapshots, recovery), the server
// shell (actors that stamp, decide, apply, append and reply), the zstd system library,
// and one executable. Load tests live in LoadTests/.
let package = Package(
    name: "Orderline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orderline", targets: ["orderline"]),
        .executable(name: "orderline-walbench", targets: ["WALBench"]),
        .executable(name: "orderline-load", targets: ["LoadGenerator"]),
        // The layers as libraries, for the fuzz targets (Fuzz/, a package of its own).
        .library(name: "OrderlineCore", targets: ["OrderlineCore"]),
        .library(name: "OrderlineStorage", targets: ["OrderlineStorage"]),
        .library(name: "OrderlineProtocol", targets: ["OrderlineProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .target(
            name: "OrderlineCore",
            dependencies: [
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "OrderlineStorage",
            dependencies: [
                "OrderlineCore",
                "CZstd",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "OrderlineProtocol",
            dependencies: [
                "OrderlineCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // SVG charts for the reports (shadow routing, load tests): no script, no network.
        .target(name: "OrderlineCharts"),
        .target(
            name: "OrderlineServer",
            dependencies: [
                "OrderlineCore",
                "OrderlineStorage",
                "OrderlineProtocol",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "orderline",
            dependencies: [
                "OrderlineCore",
                "OrderlineStorage",
                "OrderlineServer",
                "OrderlineProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CSV", package: "CSV.swift"),
                "OrderlineCharts",
            ]
        ),
        .executableTarget(
            name: "WALBench",
            dependencies: [
                "OrderlineCore",
                "OrderlineStorage",
                "CZstd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "LoadTests/WALBench"
        ),
        .executableTarget(
            name: "LoadGenerator",
            dependencies: [
                "OrderlineProtocol",
                "OrderlineCharts",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "LoadTests/LoadGenerator"
        ),
        .target(
            name: "OrderlineTestSupport",
            dependencies: [
                "OrderlineCore", "OrderlineStorage", "OrderlineProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "OrderlineCoreTests",
            dependencies: ["OrderlineCore", "OrderlineTestSupport"]
        ),
        .testTarget(
            name: "OrderlineStorageTests",
            dependencies: [
                "OrderlineCore", "OrderlineStorage", "OrderlineServer", "OrderlineProtocol", "OrderlineTestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "OrderlineEndToEndTests",
            dependencies: [
                "OrderlineCore", "OrderlineStorage", "OrderlineProtocol", "OrderlineTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "OrderlineProtocolTests",
            dependencies: [
                "OrderlineProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
