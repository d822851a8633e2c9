import request from 'supertest';
import { TEST_SERVICE_TOKEN } from './herald';

export interface LoggedIn {
  token: string;
  user: { id: string; name: string; username: string };
}

/** Signs in as a demo user through the real login route. */
export async function login(baseUrl: string, username: string): Promise<LoggedIn> {
  const res = await request(baseUrl).post('/api/auth/login').send({ username }).expect(200);
  return res.body as LoggedIn;
}

/** Publishes through the HTTP API with the service token; returns the response for assertions. */
export function postNotification(baseUrl: string, body: unknown, token: string | null = TEST_SERVICE_TOKEN) {
  const req = request(baseUrl).post('/api/notifications');
  if (token !== null) void req.set('Authorization', `Bearer ${token}`);
  return req.send(body as object);
}

/** supertest calls carrying a user's bearer token. */
export function asUser(baseUrl: string, token: string) {
  const auth = (req: request.Test) => req.set('Authorization', `Bearer ${token}`);
  return {
    get: (path: string) => auth(request(baseUrl).get(path)),
    post: (path: string, body?: unknown) => {
      const req = auth(request(baseUrl).post(path));
      return body === undefined ? req : req.send(body as object);
    },
    put: (path: string, body: unknown) => auth(request(baseUrl).put(path)).send(body as object),
    delete: (path: string) => auth(request(baseUrl).delete(path)),
  };
}
