//! [`Reply`]: what a request's caller is handed, one frame or a pipeline's
//! frames; below the actor, so that what shapes replies on their way (the
//! client-side cache) need not know the actor.

use redwire_resp::Frame;

/// The answer to a request.
#[derive(Debug)]
pub(crate) enum Reply {
    One(Frame),
    Many(Vec<Frame>),
}

impl Reply {
    /// The frames, however many there are.
    pub(crate) fn into_frames(self) -> Vec<Frame> {
        match self {
            Reply::One(frame) => vec![frame],
            Reply::Many(frames) => frames,
        }
    }
}
