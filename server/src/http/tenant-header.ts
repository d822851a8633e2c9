import type { Request } from 'express';
import { isTenantId } from '@herald/shared';
import { ValidationError } from '../platform/errors';

/**
 * The `Herald-Tenant` header of a service request (a user's comes through the authenticator, which also
 * checks the grant): absent, or a tenant id; anything else is 400.
 */
export function tenantHeader(req: Request): string | undefined {
  const tenant = req.get('herald-tenant');
  if (tenant === undefined || tenant === '') return undefined;
  if (!isTenantId(tenant)) {
    throw new ValidationError('Invalid Herald-Tenant header: it must be a tenant id.', [
      { path: 'Herald-Tenant', message: 'must be a tenant id' },
    ]);
  }
  return tenant;
}
