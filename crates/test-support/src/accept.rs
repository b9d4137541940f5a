//! The accept loop the local test servers share.

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Accepts connections until `stopped` changes, spawning `serve(stream, stopped)` for each.
pub(crate) async fn accept_loop<F, Fut>(
    listener: TcpListener,
    mut stopped: watch::Receiver<bool>,
    serve: F,
) where
    F: Fn(TcpStream, watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        let accepted = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, stopped.clone()));
            }
            // Out of file descriptors or a connection reset before accept: wait, go on.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}
