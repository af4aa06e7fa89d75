//! Bookmarks: `tome/setBookmark`, `tome/deleteBookmark`, `tome/bookmarks`, each queued on the
//! document's worker in arrival order (a bookmark set after an edit is placed in the edited
//! text). The engine moves them with the changes and keeps them in the state directory
//! (`tome_core::bookmarks`); `tome/open` offers those stored for an unchanged file.

use tome_core::bookmarks::valid_name;
use tower_lsp_server::jsonrpc::Result;

use super::{check_version, outcome, Backend};
use crate::convert::{bookmarks_out, start_offset};
use crate::errors::{from_core, invalid_params};
use crate::protocol::*;

impl Backend {
    /// `tome/setBookmark`.
    pub async fn set_bookmark(&self, p: SetBookmarkParams) -> Result<BookmarksResult> {
        check_name(&p.name)?;
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let rx = handle.submit(move |doc| {
            check_version(doc, p.version)?;
            let at = start_offset(&doc.view(), p.at, enc)?;
            let persisted = doc.set_bookmark(&p.name, at).map_err(from_core)?;
            Ok(BookmarksResult {
                version: doc.version(),
                bookmarks: bookmarks_out(&doc.view(), doc.bookmarks(), enc),
                persisted: Some(persisted),
                deleted: None,
            })
        })?;
        outcome(rx).await
    }

    /// `tome/deleteBookmark`.
    pub async fn delete_bookmark(&self, p: DeleteBookmarkParams) -> Result<BookmarksResult> {
        check_name(&p.name)?;
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let rx = handle.submit(move |doc| {
            let (deleted, persisted) = doc.delete_bookmark(&p.name);
            Ok(BookmarksResult {
                version: doc.version(),
                bookmarks: bookmarks_out(&doc.view(), doc.bookmarks(), enc),
                persisted: Some(persisted),
                deleted: Some(deleted),
            })
        })?;
        outcome(rx).await
    }

    /// `tome/bookmarks`.
    pub async fn bookmarks(&self, p: DocParams) -> Result<BookmarksResult> {
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let rx = handle.submit(move |doc| {
            Ok(BookmarksResult {
                version: doc.version(),
                bookmarks: bookmarks_out(&doc.view(), doc.bookmarks(), enc),
                persisted: None,
                deleted: None,
            })
        })?;
        outcome(rx).await
    }
}

fn check_name(name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(invalid_params(format!(
            "a bookmark name is 1 to {} bytes without control characters",
            tome_core::bookmarks::MAX_NAME
        )))
    }
}
