/**
 * The application's own tzp2p Protocol: what a valid note is, what a block of notes is, and the
 * state they build (which notes exist). tzp2p does the rest: peers, handshakes, gossip of pending
 * notes and of blocks, sync of a node that joins late, storage.
 *
 * - An operation carries one note (`note.ts`). It is valid if it decodes and its (author, seq)
 *   is not on the board yet: a note cannot be posted twice, in any order of arrival.
 * - A block holds notes in one validation pass; its fitness is its level; its protocol data is
 *   empty (any node may sequence); its context commits to the state it produces:
 *   BLAKE2b-256(predecessor context ‖ digest of the block's state writes).
 */
import {
  blake2b256, concatBytes, InvalidBlockError, InvalidOperationError, VALID, invalid, levelFitness, compareFitness,
  newShellHeader, protocolHashOf, stateWritesDigest, toHex, bytesEqual, ScratchState, DecodeError,
  type AppliedBlock, type ApplyBlockInput, type BakedBlock, type BlockHeader, type MakeBlockInput, type Operation,
  type OperationVerdict, type Protocol, type Verdict
} from 'tzp2p'
import { decodeNote, type Note } from './note.ts'

const noteKey = (n: Note): string => `note/${n.author}/${n.seq}`
const PRESENT = Uint8Array.of(1)

/** Admits a note into `state` if it is new; the state is left unchanged otherwise. */
async function admit (op: Operation, state: ScratchState): Promise<OperationVerdict> {
  let note: Note
  try {
    note = decodeNote(op.data)
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: new InvalidOperationError('malformed', e.message) }
    throw e
  }
  if (await state.get(noteKey(note)) !== undefined) {
    return { ok: false, error: new InvalidOperationError('counter_in_the_past', `${note.author} already posted note ${note.seq}`) }
  }
  state.set(noteKey(note), PRESENT)
  return { ok: true, pass: 0 }
}

const contextAfter = (predecessorContext: Uint8Array, state: ScratchState): Uint8Array =>
  blake2b256(concatBytes(predecessorContext, stateWritesDigest(state.writes())))

export function createNotesProtocol (): Protocol {
  function validateHeader (header: BlockHeader): Verdict<InvalidBlockError> {
    if (compareFitness(header.shell.fitness, levelFitness(header.shell.level)) !== 0) {
      return invalid(new InvalidBlockError('bad_fitness', `fitness is not the level ${header.shell.level}`))
    }
    if (header.shell.validationPass !== 1) return invalid(new InvalidBlockError('bad_validation_passes', 'a notes block has one validation pass'))
    if (header.protocolData.length !== 0) return invalid(new InvalidBlockError('malformed_protocol_data', 'a notes block has no protocol data'))
    return VALID
  }

  async function applyBlock (input: ApplyBlockInput): Promise<AppliedBlock> {
    const state = new ScratchState(input.state)
    for (const [index, op] of (input.operations[0] ?? []).entries()) {
      const verdict = await admit(op, state)
      if (!verdict.ok) throw InvalidBlockError.ofOperation({ pass: 0, index, error: verdict.error })
    }
    if (!bytesEqual(input.header.shell.context, contextAfter(input.predecessor.shell.context, state))) {
      throw new InvalidBlockError('bad_context', 'the context does not commit to the notes of the block')
    }
    return { writes: state.writes() }
  }

  async function makeBlock (input: MakeBlockInput): Promise<BakedBlock> {
    const state = new ScratchState(input.state)
    const included: Operation[] = []
    const refused: BakedBlock['refused'] = []
    for (const op of input.candidates) {
      const verdict = await admit(op, state)
      if (verdict.ok) included.push(op)
      else refused.push({ operation: op, error: verdict.error })
    }
    const operations = [included]
    return {
      header: {
        shell: newShellHeader(input, { operations, context: contextAfter(input.predecessor.shell.context, state) }),
        protocolData: new Uint8Array(0)
      },
      operations,
      refused
    }
  }

  return {
    name: 'notes',
    hash: protocolHashOf(new TextEncoder().encode('gossip-backbone example: notes protocol 1')),
    validationPasses: 1,
    maxOperationsTtl: 60,
    genesis: () => ({ writes: [], context: new Uint8Array(32) }),
    fitness: (level: number) => levelFitness(level),
    validateHeader,
    validateOperation: admit,
    applyBlock,
    makeBlock,
    describeOperation: (op: Operation) => {
      try {
        return { kind: 'note', ...decodeNote(op.data) }
      } catch (e) {
        return { kind: 'malformed', error: (e as Error).message, data: toHex(op.data) }
      }
    },
    describeProtocolData: () => ({})
  }
}
