// Classes of the dump as the analysis needs them: dense class numbers, names, field layouts (which bytes of an
// instance are references, and what they are called), static references, and shallow sizes under a layout.
import { BASIC_TYPES, readableClassName } from '../format.ts';
import type { CollectionSpec } from './collections.ts';
import type { Layout } from './layout.ts';

/** Class numbers 0-7: the primitive array types (HPROF basic types 4-11). 8: class objects (java.lang.Class). */
export const PRIMITIVE_ARRAY_CLASSES = 8;
export const CLASS_OBJECTS = 8;
const FIRST_DUMPED = 9;

export const Kind = { INSTANCE: 0, OBJECT_ARRAY: 1, PRIMITIVE_ARRAY: 2, CLASS: 3 } as const;

export interface FieldDef {
  name: string;
  type: number;
}

export interface StaticRef {
  name: string;
  id: number;
}

export interface ClassDef {
  /** Class object id (0 for the synthetic classes). */
  id: number;
  /** Readable name, filled once names are known. */
  name: string;
  superId: number;
  loaderId: number;
  /** Identifiers the class dump holds besides its statics: super, loader, signers, protection domain. */
  linkIds: number[];
  /** Own instance fields, in dump order. */
  fields: FieldDef[];
  staticRefs: StaticRef[];
  /** Bytes of primitive static values, and how many static references. */
  staticPrimitiveBytes: number;
  kind: number;
  instances: number;
  /** Resolved after the first pass: offsets of reference fields in an instance's field bytes, and names. */
  refOffsets?: Int32Array;
  refNames?: string[];
  /** Bytes of all instance fields (this class and supers) with references at `layout.refBytes`. */
  layoutFieldBytes?: number;
  /** Pass 2: what to read of its instances if it is a collection (null: not one), once asked. */
  collection?: CollectionSpec | null;
}

export class ClassTable {
  readonly defs: ClassDef[] = [];
  private readonly byId = new Map<number, number>();
  /** Class object id -> name string id (LOAD_CLASS). */
  readonly nameIds = new Map<number, number>();
  readonly strings = new Map<number, string>();

  constructor() {
    for (let t = 4; t <= 11; t++)
      this.defs.push(synthetic(`${BASIC_TYPES.get(t)!.name}[]`, Kind.PRIMITIVE_ARRAY));
    this.defs.push(synthetic('java.lang.Class', Kind.CLASS));
    if (this.defs.length !== FIRST_DUMPED) throw new Error('class numbering');
  }

  /** The class number of class object `id`, assigned at first sight. */
  numberOf(id: number): number {
    let n = this.byId.get(id);
    if (n === undefined) {
      n = this.defs.length;
      this.byId.set(id, n);
      const def = synthetic('', Kind.INSTANCE);
      def.id = id;
      this.defs.push(def);
    }
    return n;
  }

  get(id: number): ClassDef | undefined {
    const n = this.byId.get(id);
    return n === undefined ? undefined : this.defs[n];
  }

  /** The class's binary name (`java/lang/String`) from LOAD_CLASS and UTF8, known before its instances. */
  binaryName(def: ClassDef): string | undefined {
    const nameId = this.nameIds.get(def.id);
    return nameId === undefined ? undefined : this.strings.get(nameId);
  }

  /** Whether `def` is the class of binary name `name` or a subclass of it (undefined: a super not dumped yet). */
  isA(def: ClassDef, name: string): boolean | undefined {
    const seen = new Set<number>();
    for (let c: ClassDef | undefined = def; c && !seen.has(c.id); c = this.get(c.superId)) {
      seen.add(c.id);
      if (c.linkIds.length === 0) return undefined;
      if (this.binaryName(c) === name) return true;
    }
    return false;
  }

  /**
   * Where field `name`, declared by the class of binary name `owner`, is in the dumped fields of an instance
   * of `def` (own fields first, then the superclass's), and its type; undefined when `def` has no such field
   * or a class of its chain is not dumped yet.
   */
  fieldAt(
    def: ClassDef,
    owner: string,
    name: string,
    idSize: number,
  ): { offset: number; type: number } | undefined {
    let offset = 0;
    const seen = new Set<number>();
    for (let c: ClassDef | undefined = def; c && !seen.has(c.id); c = this.get(c.superId)) {
      seen.add(c.id);
      if (c.linkIds.length === 0) return undefined;
      const mine = this.binaryName(c) === owner;
      for (const f of c.fields) {
        if (mine && f.name === name) return { offset, type: f.type };
        offset += f.type === 2 ? idSize : BASIC_TYPES.get(f.type)!.size;
      }
    }
    return undefined;
  }

  /** Names from LOAD_CLASS and UTF8, field layouts along the superclass chain, Reference.referent left out. */
  resolve(layout: Layout): void {
    for (const def of this.defs) {
      if (def.id === 0) continue;
      const nameId = this.nameIds.get(def.id);
      const binary = nameId === undefined ? undefined : this.strings.get(nameId);
      def.name = binary === undefined ? `<class 0x${def.id.toString(16)}>` : readableClassName(binary);
    }
    const reference = this.defs.find((d) => d.name === 'java.lang.ref.Reference');
    for (const def of this.defs) {
      if (def.kind !== Kind.INSTANCE || def.id === 0) continue;
      const offsets: number[] = [];
      const names: string[] = [];
      let dumpOffset = 0;
      let bytes = 0;
      const seen = new Set<number>();
      for (let c: ClassDef | undefined = def; c && !seen.has(c.id); c = this.get(c.superId)) {
        seen.add(c.id);
        for (const f of c.fields) {
          const isRef = f.type === 2;
          // A Reference's referent is not a strong reference: it neither keeps nor retains its object.
          if (isRef && !(c === reference && f.name === 'referent')) {
            offsets.push(dumpOffset);
            names.push(f.name);
          }
          dumpOffset += isRef ? layout.idSize : BASIC_TYPES.get(f.type)!.size;
          bytes += isRef ? layout.refBytes : BASIC_TYPES.get(f.type)!.size;
        }
      }
      def.refOffsets = Int32Array.from(offsets);
      def.refNames = names;
      def.layoutFieldBytes = bytes;
    }
  }

  /**
   * Shallow bytes of object `v` from its class number and aux, through per-class tables: it runs for every
   * object, several times.
   */
  shallowOf(classes: Int32Array, aux: Uint32Array, layout: Layout): (v: number) => number {
    const count = this.defs.length;
    const fixed = new Float64Array(count);
    const element = new Float64Array(count);
    const classObject = new Float64Array(count);
    for (let c = 0; c < count; c++) {
      const def = this.defs[c]!;
      if (c < PRIMITIVE_ARRAY_CLASSES) element[c] = BASIC_TYPES.get(c + 4)!.size;
      else if (def.kind === Kind.OBJECT_ARRAY) element[c] = layout.refBytes;
      else if (c !== CLASS_OBJECTS) fixed[c] = this.shallow(c, 0, layout);
      if (def.id !== 0) classObject[c] = this.shallow(CLASS_OBJECTS, c, layout);
    }
    const base = layout.arrayBaseBytes;
    return (v) => {
      const c = classes[v]!;
      const e = element[c]!;
      if (e > 0) return Math.ceil((base + e * aux[v]!) / 8) * 8;
      return c === CLASS_OBJECTS ? classObject[aux[v]!]! : fixed[c]!;
    };
  }

  /** Shallow bytes of an object of class `n` (for arrays, `aux` is the length; for class objects, the class). */
  shallow(n: number, aux: number, layout: Layout): number {
    if (n < PRIMITIVE_ARRAY_CLASSES) return layout.array(BASIC_TYPES.get(n + 4)!.size, aux);
    const def = this.defs[n]!;
    if (def.kind === Kind.OBJECT_ARRAY) return layout.array(layout.refBytes, aux);
    if (n === CLASS_OBJECTS) {
      const c = this.defs[aux]!;
      return layout.object(c.staticPrimitiveBytes + c.staticRefs.length * layout.refBytes);
    }
    return layout.object(def.layoutFieldBytes ?? 0);
  }
}

function synthetic(name: string, kind: number): ClassDef {
  return {
    id: 0,
    name,
    superId: 0,
    loaderId: 0,
    linkIds: [],
    fields: [],
    staticRefs: [],
    staticPrimitiveBytes: 0,
    kind,
    instances: 0,
  };
}
