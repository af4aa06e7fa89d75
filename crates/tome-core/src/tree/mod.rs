//! The persistent piece tree: a B-tree of pieces whose nodes carry summaries (bytes, line breaks).
//!
//! * Leaves hold up to [`MAX`] pieces, internal nodes up to [`MAX`] children, each child with the
//!   [`Info`] of its subtree; every leaf is at the same depth, so the height is O(log pieces).
//! * Nodes are shared with `Arc` and copied on write (`Arc::make_mut`): cloning a tree is O(1),
//!   and an edit copies only the O(log n) nodes on its path. Snapshots are just old roots; undo
//!   history keeps the pieces each edit removed and inserted, and whole roots only for changes
//!   of many pieces (see `document/history.rs`).
//! * A piece over the original whose line breaks the background index has not counted yet has
//!   `info.known == false`. Such pieces sit at the end of the indexed prefix (edits keep original
//!   pieces in file order), so queries for positions before them never look at them; queries that
//!   reach them resolve them from the index if it has moved on, or answer "not yet".
//!
//! Invariants: no empty piece in the tree; a node's stored `Info` equals the concatenation of its
//! entries' (the `known` flag included); non-root nodes hold at least [`MIN`] entries after a
//! removal has rebalanced them.

mod piece;

use std::sync::Arc;

use crate::breaks::Info;
pub(crate) use piece::{Bufs, Nth, Piece, Src, MAX_ADD_PIECE};

/// Most entries in a node.
const MAX: usize = 32;
/// Fewest entries in a non-root node once a removal has rebalanced it.
const MIN: usize = MAX / 4;
/// Entries per node when building a tree in bulk.
const FILL: usize = MAX * 3 / 4;

#[derive(Clone, Debug)]
enum Node {
    Leaf(Vec<Piece>),
    Internal(Vec<Child>),
}

#[derive(Clone, Debug)]
struct Child {
    info: Info,
    node: Arc<Node>,
}

impl Child {
    fn new(node: Node) -> Child {
        Child {
            info: node.info(),
            node: Arc::new(node),
        }
    }
}

impl Node {
    fn info(&self) -> Info {
        match self {
            Node::Leaf(ps) => ps.iter().fold(Info::EMPTY, |a, p| a.concat(p.info)),
            Node::Internal(cs) => cs.iter().fold(Info::EMPTY, |a, c| a.concat(c.info)),
        }
    }

    fn entries(&self) -> usize {
        match self {
            Node::Leaf(ps) => ps.len(),
            Node::Internal(cs) => cs.len(),
        }
    }
}

/// Where the start of a line lies, as found by [`PieceTree::seek_line`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Seek {
    /// Before any CRLF fix-up: the offset just after the break's first counted byte.
    At(usize),
    /// The document has fewer line breaks.
    Beyond,
    /// The line index has not got that far.
    NotYet,
}

/// A persistent sequence of pieces. Cloning is O(1).
#[derive(Clone, Debug)]
pub(crate) struct PieceTree {
    root: Arc<Node>,
    info: Info,
}

impl Default for PieceTree {
    fn default() -> Self {
        PieceTree::from_pieces(Vec::new())
    }
}

impl PieceTree {
    /// Builds a balanced tree from pieces in document order. Cost: O(pieces).
    pub fn from_pieces(pieces: Vec<Piece>) -> PieceTree {
        let mut level: Vec<Child> = groups(pieces.len())
            .map(|r| Child::new(Node::Leaf(pieces[r].to_vec())))
            .collect();
        while level.len() > 1 {
            level = groups(level.len())
                .map(|r| Child::new(Node::Internal(level[r].to_vec())))
                .collect();
        }
        let root = level
            .pop()
            .map_or_else(|| Arc::new(Node::Leaf(Vec::new())), |c| c.node);
        PieceTree {
            info: root.info(),
            root,
        }
    }

    /// Length in bytes. O(1).
    pub fn len(&self) -> usize {
        self.info.bytes
    }

    /// Summary of the whole document. O(1).
    pub fn info(&self) -> Info {
        self.info
    }

    /// Inserts `piece` at byte `at`, joining it to a neighbour it continues. O(log n).
    pub fn insert(&mut self, at: usize, piece: Piece, bufs: &Bufs) {
        debug_assert!(at <= self.len() && piece.len() > 0);
        if let Some(right) = insert_rec(&mut self.root, at, piece, bufs) {
            let left = Child {
                info: self.root.info(),
                node: self.root.clone(),
            };
            self.root = Arc::new(Node::Internal(vec![left, right]));
        }
        self.info = self.root.info();
    }

    /// Removes bytes `[start, end)`. O(log n) plus the whole subtrees dropped.
    pub fn remove(&mut self, start: usize, end: usize, bufs: &Bufs) {
        debug_assert!(start <= end && end <= self.len());
        if start == end {
            return;
        }
        remove_rec(&mut self.root, start, end, bufs);
        while let Node::Internal(cs) = &*self.root {
            match cs.len() {
                0 => self.root = Arc::new(Node::Leaf(Vec::new())),
                1 => self.root = cs[0].node.clone(),
                _ => break,
            }
        }
        self.info = self.root.info();
    }

    /// Summary of bytes `[0, at)`, or `None` if the index has not reached `at`. O(log n).
    pub fn prefix(&self, at: usize, bufs: &Bufs) -> Option<Info> {
        prefix_rec(&self.root, at, Info::EMPTY, bufs)
    }

    /// Finds where line `k >= 1` starts (see [`Seek::At`]). O(log n) plus one block scan.
    pub fn seek_line(&self, k: usize, bufs: &Bufs) -> Seek {
        debug_assert!(k >= 1);
        let mut acc = Info::EMPTY;
        match seek_rec(&self.root, k, &mut acc, bufs) {
            Some(found) => found,
            None => Seek::Beyond,
        }
    }

    /// Iterates over the pieces, from the one holding byte `at`, with their start offsets.
    pub fn pieces_from(&self, at: usize) -> PieceIter<'_> {
        let mut stack = Vec::new();
        let mut node = &*self.root;
        let mut offset = 0;
        loop {
            match node {
                Node::Internal(cs) => {
                    let mut i = 0;
                    while i + 1 < cs.len() && offset + cs[i].info.bytes <= at {
                        offset += cs[i].info.bytes;
                        i += 1;
                    }
                    stack.push((node, i + 1));
                    match cs.get(i) {
                        Some(c) => node = &c.node,
                        None => break,
                    }
                }
                Node::Leaf(ps) => {
                    let mut i = 0;
                    while i < ps.len() && offset + ps[i].len() <= at {
                        offset += ps[i].len();
                        i += 1;
                    }
                    stack.push((node, i));
                    break;
                }
            }
        }
        PieceIter { stack, offset }
    }

    /// The pieces covering `[start, end)`, trimmed to it.
    pub fn pieces_in(&self, start: usize, end: usize, bufs: &Bufs) -> Vec<Piece> {
        let mut out = Vec::new();
        if start >= end {
            return out;
        }
        for (p, at) in self.pieces_from(start) {
            if at >= end {
                break;
            }
            let from = start.saturating_sub(at);
            let to = (end - at).min(p.len());
            out.push(if from == 0 && to == p.len() {
                p
            } else {
                bufs.sub(&p, from, to)
            });
        }
        out
    }

    /// Recomputes summaries that were unknown when made, now that the index has moved on.
    /// Copies only the nodes that change. O(unknown pieces · log n).
    pub fn refresh(&mut self, bufs: &Bufs) {
        if self.info.known {
            return;
        }
        refresh_rec(&mut self.root, bufs);
        self.info = self.root.info();
    }

    /// Number of pieces. O(n).
    pub fn piece_count(&self) -> usize {
        self.pieces_from(0).count()
    }

    /// Height of the tree (1 for a lone leaf).
    pub fn depth(&self) -> usize {
        let mut depth = 1;
        let mut node = &*self.root;
        while let Node::Internal(cs) = node {
            depth += 1;
            node = &cs[0].node;
        }
        depth
    }

    /// Checks the structural invariants; for tests.
    #[cfg(test)]
    pub fn check(&self) {
        fn rec(node: &Node, depth: usize, leaf_depth: &mut Option<usize>, root: bool) -> Info {
            assert!(node.entries() <= MAX, "node over MAX");
            if !root {
                assert!(node.entries() >= 1, "empty non-root node");
            }
            match node {
                Node::Leaf(ps) => {
                    assert!(ps.iter().all(|p| p.len() > 0), "empty piece");
                    match leaf_depth {
                        Some(d) => assert_eq!(*d, depth, "leaves at different depths"),
                        None => *leaf_depth = Some(depth),
                    }
                }
                Node::Internal(cs) => {
                    for c in cs {
                        assert_eq!(c.info, rec(&c.node, depth + 1, leaf_depth, false));
                    }
                }
            }
            node.info()
        }
        let info = rec(&self.root, 0, &mut None, true);
        assert_eq!(info, self.info);
    }
}

/// Splits `n` items into groups of about [`FILL`], sizes differing by at most one.
fn groups(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let count = n.div_ceil(FILL);
    (0..count).map(move |g| (g * n / count)..((g + 1) * n / count))
}

fn insert_rec(node: &mut Arc<Node>, at: usize, piece: Piece, bufs: &Bufs) -> Option<Child> {
    match Arc::make_mut(node) {
        Node::Leaf(ps) => {
            leaf_insert(ps, at, piece, bufs);
            (ps.len() > MAX).then(|| Child::new(Node::Leaf(ps.split_off(ps.len() / 2))))
        }
        Node::Internal(cs) => {
            let mut i = 0;
            let mut offset = at;
            while i + 1 < cs.len() && offset > cs[i].info.bytes {
                offset -= cs[i].info.bytes;
                i += 1;
            }
            let split = insert_rec(&mut cs[i].node, offset, piece, bufs);
            cs[i].info = cs[i].node.info();
            if let Some(right) = split {
                cs.insert(i + 1, right);
            }
            (cs.len() > MAX).then(|| Child::new(Node::Internal(cs.split_off(cs.len() / 2))))
        }
    }
}

fn leaf_insert(ps: &mut Vec<Piece>, at: usize, piece: Piece, bufs: &Bufs) {
    let mut offset = 0;
    for i in 0..ps.len() {
        let p = ps[i];
        let end = offset + p.len();
        if at == offset {
            return insert_between(ps, i, piece, bufs);
        }
        if at < end {
            let (left, right) = bufs.split(&p, at - offset);
            ps.splice(i..=i, [left, piece, right]);
            return;
        }
        offset = end;
    }
    insert_between(ps, ps.len(), piece, bufs);
}

/// Inserts `piece` before `ps[i]`, joining it to the piece before or after when it continues it.
fn insert_between(ps: &mut Vec<Piece>, i: usize, piece: Piece, bufs: &Bufs) {
    if i > 0 && bufs.joinable(&ps[i - 1], &piece) {
        ps[i - 1].info = ps[i - 1].info.concat(piece.info);
    } else if i < ps.len() && bufs.joinable(&piece, &ps[i]) {
        ps[i] = Piece {
            info: piece.info.concat(ps[i].info),
            ..piece
        };
    } else {
        ps.insert(i, piece);
    }
}

fn remove_rec(node: &mut Arc<Node>, start: usize, end: usize, bufs: &Bufs) {
    match Arc::make_mut(node) {
        Node::Leaf(ps) => {
            let mut out: Vec<Piece> = Vec::with_capacity(ps.len() + 1);
            let mut offset = 0;
            for p in ps.iter() {
                let (ps_, pe) = (offset, offset + p.len());
                offset = pe;
                if pe <= start || ps_ >= end {
                    push_joined(&mut out, *p, bufs);
                    continue;
                }
                if ps_ < start {
                    out.push(bufs.sub(p, 0, start - ps_));
                }
                if pe > end {
                    push_joined(&mut out, bufs.sub(p, end - ps_, p.len()), bufs);
                }
            }
            *ps = out;
        }
        Node::Internal(cs) => {
            let mut offset = 0;
            let mut i = 0;
            while i < cs.len() && offset < end {
                let len = cs[i].info.bytes;
                let (cs_, ce) = (offset, offset + len);
                offset = ce;
                if ce <= start {
                    i += 1;
                } else if start <= cs_ && ce <= end {
                    cs.remove(i);
                } else {
                    let (from, to) = (start.saturating_sub(cs_), (end - cs_).min(len));
                    remove_rec(&mut cs[i].node, from, to, bufs);
                    cs[i].info = cs[i].node.info();
                    i += 1;
                }
            }
            rebalance(cs);
        }
    }
}

fn push_joined(out: &mut Vec<Piece>, p: Piece, bufs: &Bufs) {
    match out.last_mut() {
        Some(last) if bufs.joinable(last, &p) => last.info = last.info.concat(p.info),
        _ => out.push(p),
    }
}

/// Drops empty children and merges each underfull child into a neighbour (splitting the result
/// again if it overflows), so every child ends with at least [`MIN`] entries unless it is alone.
fn rebalance(cs: &mut Vec<Child>) {
    cs.retain(|c| c.info.bytes > 0);
    let mut i = 0;
    while cs.len() > 1 && i < cs.len() {
        if cs[i].node.entries() >= MIN {
            i += 1;
            continue;
        }
        let a = if i + 1 < cs.len() { i } else { i - 1 };
        let right = cs.remove(a + 1);
        let left = std::mem::replace(&mut cs[a], Child::new(Node::Leaf(Vec::new())));
        let merged = merge(left, right);
        cs.splice(a..=a, merged);
        i = a;
    }
}

fn merge(left: Child, right: Child) -> Vec<Child> {
    let left = Arc::unwrap_or_clone(left.node);
    let right = Arc::unwrap_or_clone(right.node);
    match (left, right) {
        (Node::Leaf(mut a), Node::Leaf(b)) => {
            a.extend(b);
            split_if_full(a, Node::Leaf)
        }
        (Node::Internal(mut a), Node::Internal(b)) => {
            a.extend(b);
            split_if_full(a, Node::Internal)
        }
        _ => unreachable!("siblings are at the same depth"),
    }
}

fn split_if_full<T>(mut entries: Vec<T>, make: fn(Vec<T>) -> Node) -> Vec<Child> {
    if entries.len() <= MAX {
        return vec![Child::new(make(entries))];
    }
    let right = entries.split_off(entries.len() / 2);
    vec![Child::new(make(entries)), Child::new(make(right))]
}

fn resolve_node(node: &Node, bufs: &Bufs) -> Option<Info> {
    match node {
        Node::Leaf(ps) => ps
            .iter()
            .try_fold(Info::EMPTY, |a, p| Some(a.concat(bufs.resolve(p)?))),
        Node::Internal(cs) => cs
            .iter()
            .try_fold(Info::EMPTY, |a, c| Some(a.concat(resolve_child(c, bufs)?))),
    }
}

fn resolve_child(c: &Child, bufs: &Bufs) -> Option<Info> {
    if c.info.known {
        Some(c.info)
    } else {
        resolve_node(&c.node, bufs)
    }
}

fn prefix_rec(node: &Node, mut at: usize, mut acc: Info, bufs: &Bufs) -> Option<Info> {
    match node {
        Node::Leaf(ps) => {
            for p in ps {
                if at >= p.len() {
                    acc = acc.concat(bufs.resolve(p)?);
                    at -= p.len();
                } else {
                    if at > 0 {
                        acc = acc.concat(bufs.resolve(&bufs.sub(p, 0, at))?);
                    }
                    break;
                }
            }
            Some(acc)
        }
        Node::Internal(cs) => {
            for c in cs {
                if at >= c.info.bytes {
                    acc = acc.concat(resolve_child(c, bufs)?);
                    at -= c.info.bytes;
                } else {
                    return prefix_rec(&c.node, at, acc, bufs);
                }
            }
            Some(acc)
        }
    }
}

/// Looks for the start of line `k` in `node`; `acc` is the summary of everything before it and
/// is advanced past the node when the line is not in it (`None`).
fn seek_rec(node: &Node, k: usize, acc: &mut Info, bufs: &Bufs) -> Option<Seek> {
    match node {
        Node::Leaf(ps) => {
            for p in ps {
                let info = bufs.resolve(p);
                if let Some(info) = info {
                    let next = acc.concat(info);
                    if next.breaks < k {
                        *acc = next;
                        continue;
                    }
                }
                let joined = usize::from(acc.bytes > 0 && acc.last_cr && p.info.first_lf);
                let n = k - acc.breaks + joined;
                return Some(match bufs.nth_end(p, n) {
                    Nth::At(y) => Seek::At(acc.bytes + y),
                    Nth::Beyond | Nth::NotYet => Seek::NotYet,
                });
            }
            None
        }
        Node::Internal(cs) => {
            for c in cs {
                if let Some(info) = resolve_child(c, bufs) {
                    let next = acc.concat(info);
                    if next.breaks < k {
                        *acc = next;
                        continue;
                    }
                }
                if let Some(found) = seek_rec(&c.node, k, acc, bufs) {
                    return Some(found);
                }
            }
            None
        }
    }
}

fn refresh_rec(node: &mut Arc<Node>, bufs: &Bufs) {
    match Arc::make_mut(node) {
        Node::Leaf(ps) => {
            for p in ps.iter_mut().filter(|p| !p.info.known) {
                if let Some(info) = bufs.resolve(p) {
                    p.info = info;
                }
            }
        }
        Node::Internal(cs) => {
            for c in cs.iter_mut().filter(|c| !c.info.known) {
                refresh_rec(&mut c.node, bufs);
                c.info = c.node.info();
            }
        }
    }
}

/// Iterator over `(piece, start offset)` pairs in document order.
pub(crate) struct PieceIter<'a> {
    stack: Vec<(&'a Node, usize)>,
    offset: usize,
}

impl Iterator for PieceIter<'_> {
    type Item = (Piece, usize);

    fn next(&mut self) -> Option<(Piece, usize)> {
        loop {
            let (node, i) = self.stack.last_mut()?;
            match node {
                Node::Leaf(ps) => match ps.get(*i) {
                    Some(p) => {
                        *i += 1;
                        let start = self.offset;
                        self.offset += p.len();
                        return Some((*p, start));
                    }
                    None => {
                        self.stack.pop();
                    }
                },
                Node::Internal(cs) => match cs.get(*i) {
                    Some(c) => {
                        *i += 1;
                        self.stack.push((&c.node, 0));
                    }
                    None => {
                        self.stack.pop();
                    }
                },
            }
        }
    }
}

impl PieceTree {
    /// The pieces whose summaries were unknown when made (few: they sit past the index's
    /// frontier). Visits only unknown subtrees.
    pub fn unknown_pieces(&self) -> Vec<Piece> {
        fn rec(node: &Node, out: &mut Vec<Piece>) {
            match node {
                Node::Leaf(ps) => out.extend(ps.iter().filter(|p| !p.info.known)),
                Node::Internal(cs) => {
                    for c in cs.iter().filter(|c| !c.info.known) {
                        rec(&c.node, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        if !self.info.known {
            rec(&self.root, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::add_buffer::AddBuffer;

    /// Random inserts and removals against a `Vec<u8>` model: the tree grows several levels
    /// deep, rebalances on removal, keeps its invariants, and its summaries stay exact.
    #[test]
    fn random_edits_keep_invariants_and_content() {
        let mut add = AddBuffer::default();
        let mut tree = PieceTree::default();
        let mut model: Vec<u8> = Vec::new();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut rand = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let alphabet: &[&[u8]] = &[b"ab", b"\r", b"\n", b"\r\n", b"xyz", "é".as_bytes()];
        let mut max_depth = 0;
        for step in 0..60_000 {
            if rand(3) > 0 || model.is_empty() {
                let text = alphabet[rand(alphabet.len())];
                let r = add.push(text);
                let piece = Piece {
                    src: Src::Add(r.block),
                    start: r.start,
                    info: Info::of(text),
                };
                let at = rand(model.len() + 1);
                let (sealed, open) = add.parts();
                tree.insert(
                    at,
                    piece,
                    &Bufs {
                        sources: &[],
                        sealed,
                        open,
                    },
                );
                model.splice(at..at, text.iter().copied());
            } else {
                let start = rand(model.len());
                let span = if rand(2000) == 0 { 5000 } else { 8 };
                let end = (start + rand(span)).min(model.len());
                let (sealed, open) = add.parts();
                tree.remove(
                    start,
                    end,
                    &Bufs {
                        sources: &[],
                        sealed,
                        open,
                    },
                );
                model.drain(start..end);
            }
            max_depth = max_depth.max(tree.depth());
            if step % 5000 == 0 || step > 59_990 {
                tree.check();
                let (sealed, open) = add.parts();
                let bufs = Bufs {
                    sources: &[],
                    sealed,
                    open,
                };
                let content: Vec<u8> = tree
                    .pieces_from(0)
                    .flat_map(|(p, _)| bufs.bytes(&p).to_vec())
                    .collect();
                assert_eq!(content, model);
                assert_eq!(tree.info(), Info::of(&model));
            }
        }
        assert!(max_depth >= 3, "the tree only reached depth {max_depth}");
        // Remove everything: the tree collapses back to an empty leaf.
        let (sealed, open) = add.parts();
        tree.remove(
            0,
            model.len(),
            &Bufs {
                sources: &[],
                sealed,
                open,
            },
        );
        tree.check();
        assert_eq!(tree.len(), 0);
        assert_eq!(tree.depth(), 1);
    }

    #[test]
    fn bulk_build_is_balanced() {
        let pieces: Vec<Piece> = (0..100_000)
            .map(|i| Piece {
                src: Src::Add(0),
                start: i * 2,
                info: Info {
                    bytes: 1,
                    breaks: 0,
                    first_lf: false,
                    last_cr: false,
                    known: true,
                },
            })
            .collect();
        let tree = PieceTree::from_pieces(pieces);
        tree.check();
        assert_eq!(tree.len(), 100_000);
        assert!(tree.depth() <= 5);
    }
}
