/**
 * A page whose code is loaded when it is first shown (a separate chunk), so participants on
 * phones do not download the moderator's pages. Shows a status line while loading and an alert
 * if the chunk cannot be fetched.
 */
import { type ComponentType, h } from "preact";
import { useEffect, useState } from "preact/hooks";

export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  let pending: Promise<void> | undefined;
  return function LazyPage(props: P) {
    const [, setReady] = useState(0);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      let current = true;
      pending ??= load().then((component) => {
        loaded = component;
      });
      pending.then(
        () => current && setReady((count) => count + 1),
        () => {
          pending = undefined;
          if (current) setFailed(true);
        },
      );
      return () => {
        current = false;
      };
    }, []);
    if (loaded) return h(loaded, props);
    return failed ? (
      <p class="form-error" role="alert">
        This page could not be loaded. Check your connection and reload.
      </p>
    ) : (
      <p class="loading" role="status">
        Loading…
      </p>
    );
  };
}
