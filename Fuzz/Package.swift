// swift-tools-version: 6.0
import PackageDescription

// libFuzzer targets, built apart from the main package (`-sanitize=fuzzer,address` is for
// them only): `LoadTests/fuzz.sh` builds them and runs each on its seed corpus
// (Fuzz/Corpus/<target>). Each one's `main` hands its callback to libFuzzer's driver.
let package = Package(
    name: "OrderlineFuzz",
    dependencies: [
        .package(name: "Orderline", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    ],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "FuzzRESP",
            dependencies: ["CFuzzerDriver", .product(name: "OrderlineProtocol", package: "Orderline"), .product(name: "NIOCore", package: "swift-nio")]),
        .executableTarget(
            name: "FuzzCommands",
            dependencies: ["CFuzzerDriver", .product(name: "OrderlineCore", package: "Orderline")]),
        .executableTarget(
            name: "FuzzStorage",
            dependencies: [
                "CFuzzerDriver", .product(name: "OrderlineCore", package: "Orderline"), .product(name: "OrderlineStorage", package: "Orderline"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
