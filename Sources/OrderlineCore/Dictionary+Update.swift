extension Dictionary {
    /// Changes the value for `key` in place, first inserting `initial` when there is
    /// none; returns what `body` returned. Not `self[key, default:]` or `self[key]?`
    /// for the hot paths that use it: those go through `Dictionary`'s modify
    /// accessor, whose coroutine frame the specializations here allocated on the heap
    /// (a malloc per call; `perf` with a uprobe on malloc counted them).
    @inlinable
    mutating func update<Result>(_ key: Key, default initial: @autoclosure () -> Value, _ body: (inout Value) -> Result) -> Result {
        if let index = index(forKey: key) { return body(&values[index]) }
        var value = initial()
        let result = body(&value)
        self[key] = value
        return result
    }

    /// Changes the value for `key` in place if there is one; nil if there is none.
    @inlinable
    mutating func updateExisting<Result>(_ key: Key, _ body: (inout Value) -> Result) -> Result? {
        guard let index = index(forKey: key) else { return nil }
        return body(&values[index])
    }
}
