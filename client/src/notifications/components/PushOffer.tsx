import { useState } from 'react';
import { useDesktopNotifications } from '../react/use-push.js';
import { useWording } from './labels.js';

/**
 * "Enable desktop notifications", shown while Herald has push configured and this browser has not
 * asked the user yet; a click asks (browsers only ask from a click) and subscribes.
 *
 * @example
 * <PushOffer />
 */
export function PushOffer() {
  const { labels } = useWording();
  const { state, enable } = useDesktopNotifications();
  const [status, setStatus] = useState<'idle' | 'asking' | 'failed'>('idle');
  if (state !== 'default' && status !== 'failed') return null;
  const onClick = async () => {
    setStatus('asking');
    try {
      const result = await enable();
      setStatus(result === 'enabled' || result === 'denied' || result === 'dismissed' ? 'idle' : 'failed');
    } catch {
      setStatus('failed');
    }
  };
  return (
    <div className="hr-push-offer" data-testid="push-offer">
      {status === 'failed' ? (
        <span role="status">{labels.enablePushFailed}</span>
      ) : (
        <>
          <button type="button" className="hr-action hr-action--primary" disabled={status === 'asking'} onClick={() => void onClick()}>
            {labels.enablePush}
          </button>
          <span className="hr-push-hint">{labels.enablePushHint}</span>
        </>
      )}
    </div>
  );
}
