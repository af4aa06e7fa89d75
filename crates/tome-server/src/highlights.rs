//! The highlight rules a session set (`tome/setHighlightRules`): one set for the session and,
//! optionally, one per document that replaces it for that document. `tome/viewport` takes the
//! document's set (an `Arc`, so a viewport never holds the lock while it reads) and reports the
//! rules' matches on the lines it returns (see `tome_core::highlight`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tome_core::highlight::RuleSet;

/// Most highlights one viewport reports (some 60 bytes of JSON each: 4 MiB); past it the
/// reply says `highlightsCut`.
pub const MAX_HIGHLIGHTS: usize = 65_536;

/// The session's rules and the documents' own.
#[derive(Default)]
pub struct Highlights {
    inner: Mutex<Sets>,
}

#[derive(Default)]
struct Sets {
    session: Option<Arc<RuleSet>>,
    /// Documents with rules of their own (an empty set: none for that document).
    docs: HashMap<u64, Arc<RuleSet>>,
}

impl Highlights {
    /// Sets the session's rules (`doc` None) or document `doc`'s own; `None` as the set: no
    /// rules for the session, or the document follows the session's rules again.
    pub fn set(&self, doc: Option<u64>, set: Option<Arc<RuleSet>>) {
        let mut sets = self.lock();
        match (doc, set) {
            (None, set) => sets.session = set,
            (Some(d), Some(set)) => {
                sets.docs.insert(d, set);
            }
            (Some(d), None) => {
                sets.docs.remove(&d);
            }
        }
    }

    /// The rules that apply to document `doc`, if any.
    pub fn for_doc(&self, doc: u64) -> Option<Arc<RuleSet>> {
        let sets = self.lock();
        sets.docs
            .get(&doc)
            .or(sets.session.as_ref())
            .filter(|s| !s.is_empty())
            .cloned()
    }

    /// Forgets a closed document's own rules.
    pub fn forget(&self, doc: u64) {
        self.lock().docs.remove(&doc);
    }

    fn lock(&self) -> MutexGuard<'_, Sets> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
