import type { KeyboardEvent, RefObject } from 'react';

/**
 * Keyboard movement inside a list of actions marked `data-item-action`: arrow
 * keys move between them, Home/End jump, Escape calls `onEscape`.
 */
export function useRovingFocus(listRef: RefObject<HTMLElement | null>, onEscape: () => void) {
  return (event: KeyboardEvent<HTMLElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onEscape();
      return;
    }
    const actions = [...(listRef.current?.querySelectorAll<HTMLElement>('[data-item-action]') ?? [])];
    const index = actions.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => {
      event.preventDefault();
      actions[Math.max(0, Math.min(actions.length - 1, to))]?.focus();
    };
    if (event.key === 'ArrowDown') move(index + 1);
    else if (event.key === 'ArrowUp') move(index - 1);
    else if (event.key === 'Home') move(0);
    else if (event.key === 'End') move(actions.length - 1);
  };
}
