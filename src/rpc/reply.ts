import type { FastifyReply } from 'fastify'

/**
 * A JSON string answer (`"id…"`, `"B…"`), as Octez sends: fastify would send a returned string
 * as plain text.
 */
export async function sendJsonString (reply: FastifyReply, value: string): Promise<FastifyReply> {
  return await reply.type('application/json; charset=utf-8').send(JSON.stringify(value))
}
