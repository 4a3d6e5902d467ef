import NIOCore

/// What connections need once recovery is done: the engine and the tracker of its
/// acknowledgements. Empty while the server recovers: connections accepted then are
/// answered `-LOADING` (PING and QUIT still work).
final class ServingSlot: Sendable {
    struct Serving: Sendable {
        var engine: Engine
        var tracker: AcknowledgementTracker
    }

    private let box: NIOLoopBoundBox<Serving?>

    init(eventLoop: any EventLoop) {
        box = NIOLoopBoundBox.makeBoxSendingValue(nil, as: Serving?.self, eventLoop: eventLoop)
    }

    /// On the loop.
    var serving: Serving? { box.value }

    /// On the loop.
    func fill(_ serving: Serving) { box.value = serving }
}
