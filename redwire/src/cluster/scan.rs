//! [`ClusterScan`]: `SCAN` over a whole cluster, every primary's keyspace in
//! turn, each node's cursor followed to its end. `SCAN` sent like any other
//! command would see one node's keys only, so the cluster client refuses it
//! and offers this instead.
//!
//! It walks the primaries of the map when it starts. A slot that moves during
//! the scan may have its keys seen twice or not at all; a map that is stable
//! yields every key, as SCAN promises on one node.

use crate::client::Client;
use crate::cmd::cmd;
use crate::commands::{ScanOptions, ScanPage};
use crate::error::Result;
use crate::value::FromValue;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

type Page<T> = Pin<Box<dyn Future<Output = Result<ScanPage<T>>> + Send>>;

/// A scan of every primary of a cluster, as an async stream of keys.
///
/// ```no_run
/// # async fn demo(cluster: redwire::cluster::ClusterClient) -> redwire::Result<()> {
/// use redwire::prelude::*;
/// let sessions: Vec<String> = cluster
///     .scan_cluster(ScanOptions::new().pattern("session:*"))
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a scan sends nothing until it is polled"]
pub struct ClusterScan<T> {
    nodes: VecDeque<Client>,
    cursor: u64,
    options: ScanOptions,
    ready: VecDeque<T>,
    page: Option<Page<T>>,
}

impl<T: FromValue + Send + 'static> ClusterScan<T> {
    pub(crate) fn new(nodes: Vec<Client>, options: ScanOptions) -> Self {
        ClusterScan {
            nodes: nodes.into(),
            cursor: 0,
            options,
            ready: VecDeque::new(),
            page: None,
        }
    }

    /// The next key, `None` at the end; an error ends the scan.
    pub async fn next(&mut self) -> Option<Result<T>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    /// Every remaining key.
    pub async fn try_collect(mut self) -> Result<Vec<T>> {
        let mut all = Vec::new();
        while let Some(item) = self.next().await {
            all.push(item?);
        }
        Ok(all)
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if self.page.is_none() {
                let Some(node) = self.nodes.front().cloned() else {
                    return Poll::Ready(None);
                };
                let request = cmd("SCAN").arg(self.cursor).arg(&self.options);
                self.page = Some(Box::pin(async move {
                    node.query::<ScanPage<T>>(&request).await
                }));
            }
            let page = self.page.as_mut().expect("set above");
            let result = std::task::ready!(page.as_mut().poll(cx));
            self.page = None;
            match result {
                Ok(page) => {
                    self.cursor = page.cursor;
                    if page.cursor == 0 {
                        // This node is done: the next one, from its start.
                        self.nodes.pop_front();
                    }
                    self.ready.extend(page.items);
                }
                Err(e) => {
                    self.nodes.clear();
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

impl<T: FromValue + Send + 'static> futures_core::Stream for ClusterScan<T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        self.get_mut().poll_item(cx)
    }
}

impl<T> Unpin for ClusterScan<T> {}
