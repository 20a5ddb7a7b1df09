//! The server's shutdown signal, as one socket's driver sees it: close with
//! 1001 once it is triggered, whether the socket waits or is too busy to.

use std::task::Context;

use tokio::io::{AsyncRead, AsyncWrite};

use super::{now, Driver};
use crate::proto::{CloseCode, CloseFrame};
use crate::shutdown::ShutdownGuard;

impl<IO: AsyncRead + AsyncWrite + Unpin> Driver<IO> {
    /// A cheap look at the shutdown flag, for sockets too busy to wait.
    pub(super) fn notice_shutdown(&mut self) {
        if self.shutdown.as_ref().is_some_and(ShutdownGuard::is_pending_trigger) {
            self.close_for_shutdown();
        }
    }

    /// Closes with 1001 once the server's shutdown is triggered.
    pub(super) fn poll_shutdown_signal(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(guard) = &mut self.shutdown else { return false };
        let Some(trigger) = guard.trigger_mut() else {
            return false;
        };
        if trigger.as_mut().poll(cx).is_pending() {
            return false;
        }
        self.close_for_shutdown()
    }

    fn close_for_shutdown(&mut self) -> bool {
        if let Some(guard) = &mut self.shutdown {
            guard.fired();
        }
        let frame = CloseFrame {
            code: CloseCode::AWAY,
            reason: "server shutting down".into(),
        };
        // Refused if a close is already under way, which is as good.
        self.conn.close(Some(frame), now()).is_ok()
    }
}
