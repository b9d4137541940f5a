//! The function the operator calls for each element.

use std::future::Future;

/// An asynchronous call made for one input element, and again for each retry.
///
/// The operator owns every input until it emits it with its outcome; `call` gets a reference
/// and returns a future that owns what it needs (serialise the request body, copy an id), so
/// inputs are never cloned, and a retry simply calls again. Closures
/// `Fn(&T) -> impl Future<Output = Result<O, E>>` implement this trait:
///
/// ```
/// use lambdakit_enrich::AsyncFunction;
///
/// let lookup = |id: &u64| {
///     let id = *id;
///     async move { Ok::<_, std::io::Error>(format!("user-{id}")) }
/// };
/// # fn assert_function<F: AsyncFunction<u64>>(_: &F) {}
/// assert_function(&lookup);
/// ```
///
/// One input may produce zero or more outputs: make `Output` a `Vec`.
pub trait AsyncFunction<T> {
    /// The result of a successful call.
    type Output;
    /// The error of a failed call, seen by the retry predicate.
    type Error;
    /// The call in progress.
    type Future: Future<Output = Result<Self::Output, Self::Error>>;

    /// Starts the call for `input`.
    fn call(&self, input: &T) -> Self::Future;

    /// The value to emit when `input` times out, as Flink's `AsyncFunction::timeout`; `None`
    /// (the default) emits [`Outcome::TimedOut`](crate::Outcome::TimedOut).
    fn on_timeout(&self, input: &T) -> Option<Self::Output> {
        let _ = input;
        None
    }
}

impl<T, F, Fut, O, E> AsyncFunction<T> for F
where
    F: Fn(&T) -> Fut,
    Fut: Future<Output = Result<O, E>>,
{
    type Output = O;
    type Error = E;
    type Future = Fut;

    fn call(&self, input: &T) -> Fut {
        self(input)
    }
}

/// An [`AsyncFunction`] with a fallback value for elements that time out; made by
/// [`with_fallback`].
#[derive(Clone, Debug)]
pub struct WithFallback<F, G> {
    function: F,
    fallback: G,
}

/// Wraps `function` so that an element that times out is emitted as
/// [`Outcome::Fallback`](crate::Outcome::Fallback) with `fallback(input)` instead of
/// [`Outcome::TimedOut`](crate::Outcome::TimedOut).
pub fn with_fallback<T, F, G>(function: F, fallback: G) -> WithFallback<F, G>
where
    F: AsyncFunction<T>,
    G: Fn(&T) -> F::Output,
{
    WithFallback { function, fallback }
}

impl<T, F, G> AsyncFunction<T> for WithFallback<F, G>
where
    F: AsyncFunction<T>,
    G: Fn(&T) -> F::Output,
{
    type Output = F::Output;
    type Error = F::Error;
    type Future = F::Future;

    fn call(&self, input: &T) -> Self::Future {
        self.function.call(input)
    }

    fn on_timeout(&self, input: &T) -> Option<Self::Output> {
        Some((self.fallback)(input))
    }
}
