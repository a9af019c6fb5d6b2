import ATRepo
import ATSyntax

extension RepoStore {
    /// `body` run on `did`'s stored root, and run again on the new root when
    /// a block it reads is missing because a commit stored meanwhile deleted
    /// it: the blocks of a repository are read one by one, not from one
    /// snapshot. `nil` when there is no repository.
    ///
    /// - Throws: `body`'s ``RepoError/Code/missingBlock`` when the root did
    ///   not move (the block is not there), or after `tries` roots; any other
    ///   error of `body` at once.
    func readingStableRoot<T>(of did: DID, tries: Int = 4, _ body: (RepoRoot) throws -> T) throws -> T? {
        var tried = 0
        while true {
            guard let root = try root(of: did) else { return nil }
            do {
                return try body(root)
            } catch let error as RepoError where error.code == .missingBlock {
                tried += 1
                guard tried < tries, try self.root(of: did)?.commit != root.commit else { throw error }
            }
        }
    }
}
