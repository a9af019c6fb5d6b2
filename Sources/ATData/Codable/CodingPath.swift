/// A coding path built only when it is read: containers hand their children a
/// node, and the array that `Encoder` and `Decoder` expose is made on demand,
/// so encoding a field costs no array allocation.
indirect enum CodingPathNode {
    case root
    case key(any CodingKey, CodingPathNode)
    case index(Int, CodingPathNode)

    var path: [any CodingKey] {
        switch self {
        case .root: []
        case .key(let key, let parent): parent.path + [key]
        case .index(let index, let parent): parent.path + [AnyKey(intValue: index)]
        }
    }

    func appending(_ key: any CodingKey) -> CodingPathNode { .key(key, self) }
    func appending(index: Int) -> CodingPathNode { .index(index, self) }
}
