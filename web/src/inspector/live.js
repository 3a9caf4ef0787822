// Live updates for a view: its subscriptions, re-subscribed after
// SUBSCRIPTION_LAGGED; after a lag or a reconnect the view re-reads its
// data (`resync`) and the page says so.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { subscribe, errorCode } from './api.js';

/// The signed-in session: token, viewer, what it may do, the live client,
/// the page's notices and change log.
export const Session = createContext(null);
export const useSession = () => useContext(Session);

/// `specs`: [{ query, variables }] (null entries are skipped); `onEvent(data)`
/// for every result of any of them; `resync()` to read everything again.
export function useLive(specs, onEvent, resync, key) {
  const session = useSession();
  const handlers = useRef({ onEvent, resync });
  handlers.current = { onEvent, resync };
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (!session.live) return;
    const stops = specs.filter(Boolean).map((spec) =>
      subscribe(
        session.live,
        spec.query,
        spec.variables,
        (data) => handlers.current.onEvent(data),
        (errors) => {
          const code = errorCode(errors);
          if (code === 'SUBSCRIPTION_LAGGED') {
            session.notify('Live updates fell behind the server: the data was re-read.');
            handlers.current.resync();
            setGeneration((g) => g + 1);
          } else if (errors) {
            session.notify(`Live updates stopped: ${code || 'error'}: ${errors[0]?.message ?? ''}`, 'error');
          } else {
            // The server completed the stream: subscribe again.
            setTimeout(() => setGeneration((g) => g + 1), 1000);
          }
        },
      ),
    );
    return () => stops.forEach((stop) => stop());
  }, [session.live, key, generation]);

  // graphql-ws subscribes again by itself after a reconnect; what happened
  // meanwhile is read again.
  const seen = useRef(session.reconnects);
  useEffect(() => {
    if (session.reconnects !== seen.current) {
      seen.current = session.reconnects;
      handlers.current.resync();
      session.notify('Reconnected to live updates: the data was re-read.');
    }
  }, [session.reconnects]);
}

/// A map name -> counter for highlighting changed variables, per scope.
export function useFlash() {
  const [flash, setFlash] = useState({});
  const bump = (scope, name) =>
    setFlash((f) => {
      const inScope = f[scope] || {};
      return { ...f, [scope]: { ...inScope, [name]: (inScope[name] || 0) + 1 } };
    });
  return [flash, bump];
}
