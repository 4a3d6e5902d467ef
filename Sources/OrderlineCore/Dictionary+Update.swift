extension Dictionary {
    /// Changes the value for `key` in place, first inserting `initial` when there is
    /// none; returns what `body` returned. Not `self[key, default:]` or `self[key]?`
    /// on the hot paths that use it: there, `perf` with a uprobe on `malloc` showed it
    /// called inside `Dictionary`'s modify accessor about once per call (most likely
    /// its coroutine frame); through the index, a key that is there costs nothing more.
    @inlinable @discardableResult
    mutating func update<Result>(_ key: Key, default initial: @autoclosure () -> Value, _ body: (inout Value) -> Result) -> Result {
        if let index = index(forKey: key) { return body(&values[index]) }
        var value = initial()
        let result = body(&value)
        self[key] = value
        return result
    }

    /// Changes the value for `key` in place if there is one; nil if there is none.
    @inlinable @discardableResult
    mutating func updateExisting<Result>(_ key: Key, _ body: (inout Value) -> Result) -> Result? {
        guard let index = index(forKey: key) else { return nil }
        return body(&values[index])
    }
}
