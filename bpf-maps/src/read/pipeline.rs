//! Reading on one thread while the caller consumes on another, with two batches in flight.

use std::sync::mpsc;

use super::{Batch, ReadMethod, Reader};
use crate::{MapError, OpenMap};

/// Reads every entry of `map` on a second thread, one [`Batch`] at a time, and hands each
/// batch to `sink` on the calling thread while the next one is being read: the kernel's copy
/// and what `sink` does with the previous batch (formatting, writing) overlap on two CPUs.
///
/// Two batches exist at any moment, so memory stays flat whatever the map's size. Batches
/// come in the order a [`Reader`] reads them, with the same guarantee (whole hash buckets,
/// each copied under its lock). Returns how the entries were read. Stops at the first error,
/// of the read or of `sink`; batches already handed to `sink` stay handed.
pub fn stream<E: From<MapError>>(
    map: &OpenMap,
    mut sink: impl FnMut(&Batch) -> Result<(), E>,
) -> Result<ReadMethod, E> {
    let mut reader = Reader::new(map)?;
    let first = Batch::for_map(map)?;
    let mut spare = Some(first.clone());
    // Filled batches go to the caller; the caller gives emptied ones back.
    let (filled_tx, filled_rx) = mpsc::sync_channel::<Result<Batch, MapError>>(1);
    let (empty_tx, empty_rx) = mpsc::channel::<Batch>();
    // `move`: if `sink` panics, unwinding drops the caller's ends of both channels, which
    // unblocks the reader so that the scope can end.
    std::thread::scope(move |scope| {
        let read = scope.spawn(move || {
            let mut batch = first;
            loop {
                match reader.read_into(&mut batch) {
                    Ok(true) => {
                        if filled_tx.send(Ok(batch)).is_err() {
                            return reader.method();
                        }
                    }
                    Ok(false) => return reader.method(),
                    Err(e) => {
                        // The caller may have stopped already; then nobody needs the error.
                        let _ = filled_tx.send(Err(e));
                        return reader.method();
                    }
                }
                // A closed channel means the caller stopped (its own error, or done).
                match spare.take().map_or_else(|| empty_rx.recv(), Ok) {
                    Ok(b) => batch = b,
                    Err(_) => return reader.method(),
                }
            }
        });
        let consumed = filled_rx.iter().try_for_each(|batch| {
            let batch = batch?;
            sink(&batch)?;
            // The reader may have finished; then the batch is simply dropped.
            let _ = empty_tx.send(batch);
            Ok(())
        });
        // Unblocks the reader if the caller stopped early.
        drop(filled_rx);
        drop(empty_tx);
        let method = read
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        consumed.map(|()| method)
    })
}
