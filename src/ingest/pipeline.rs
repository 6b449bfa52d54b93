//! The commit pipeline a source feeds: each batch starts parsing on a
//! blocking thread as it is handed over, and one committer task commits the
//! batches in the order they came, while the source goes on downloading.
//! The source acts on a batch (moves it on the server, renames its files)
//! only once its commit has been reported back.

use tokio::sync::mpsc;
use tracing::Instrument;

use super::{Fetched, Ingestor, ParseTask};
use crate::store::{IngestOutcome, MailboxProgress, StoreError};

/// What the source gets back for each batch, in order: its own tags for the
/// batch's messages and their outcomes, or the error that stopped the
/// pipeline (no later batch is committed past it).
pub type Committed<T> = Result<(Vec<T>, Vec<IngestOutcome>), StoreError>;

type Job<T> = (Vec<T>, Option<MailboxProgress>, ParseTask);

/// The source's end: hands batches over, waiting while the committer has
/// no room, so a fast download waits in the socket rather than in memory.
pub struct Pipeline<'a, T> {
    jobs: mpsc::Sender<Job<T>>,
    ingestor: &'a Ingestor,
    mailbox: &'a str,
    /// The committer's room for the next batch, once reserved.
    permit: Option<mpsc::OwnedPermit<Job<T>>>,
}

impl<'a, T: Send + 'static> Pipeline<'a, T> {
    /// Starts the committer for `mailbox`, whose position is stored under
    /// `progress_key`. One batch waits in the queue while another commits.
    pub fn start(
        ingestor: &'a Ingestor,
        mailbox: &'a str,
        progress_key: &str,
    ) -> (Self, mpsc::UnboundedReceiver<Committed<T>>) {
        let (jobs, mut queue) = mpsc::channel::<Job<T>>(1);
        let (done, committed) = mpsc::unbounded_channel();
        let (committer, key) = (ingestor.clone(), progress_key.to_string());
        tokio::spawn(
            async move {
                while let Some((tags, progress, parse)) = queue.recv().await {
                    let result = async {
                        let items = parse.await?;
                        committer
                            .commit(items, progress.map(|p| (key.as_str(), p)))
                            .await
                    }
                    .await;
                    let failed = result.is_err();
                    if done.send(result.map(|outcomes| (tags, outcomes))).is_err() || failed {
                        break;
                    }
                }
            }
            .instrument(tracing::Span::current()),
        );
        let pipeline = Pipeline {
            jobs,
            ingestor,
            mailbox,
            permit: None,
        };
        (pipeline, committed)
    }

    /// Waits until the committer can take another batch; false when it has
    /// stopped.
    pub async fn reserve(&mut self) -> bool {
        if self.permit.is_none() {
            self.permit = self.jobs.clone().reserve_owned().await.ok();
        }
        self.permit.is_some()
    }

    /// Starts parsing the batch at once and queues it for commit, with the
    /// source position it reaches; false when the committer has stopped.
    pub async fn send(
        &mut self,
        tags: Vec<T>,
        fetched: Vec<Fetched>,
        progress: Option<MailboxProgress>,
    ) -> bool {
        if !self.reserve().await {
            return false;
        }
        let parse = self.ingestor.parse(self.mailbox, fetched);
        match self.permit.take() {
            Some(permit) => {
                permit.send((tags, progress, parse));
                true
            }
            None => false,
        }
    }
}
