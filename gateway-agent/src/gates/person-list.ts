import type { PersonList } from '@sceneway/device-drivers';
import type { Logger } from '../logger.ts';
import type { FaceDataStore } from './face-data-store.ts';
import type { GatesConfig } from './gates-config.ts';

/**
 * What one reader must hold: the persons of the directory whose group may enter the reader's zone and
 * who have face data enrolled, opened for the driver to seal under that reader's key. A reader with no
 * zone holds nobody. A row that fails its MAC is left out and reported, never sent (004 §5.3.2 b) 7)).
 */
export function personListOf(
  config: GatesConfig,
  readerId: string,
  faceData: FaceDataStore,
  digestOf: (personId: string) => string,
  logger: Logger,
): PersonList {
  const version = faceData.version();
  const zone = config.readers.find((r) => r.reader === readerId)?.zone;
  if (zone === undefined) return { version, persons: [] };
  const groups = new Map(config.groups.map((g) => [g.id, g]));
  const persons: PersonList['persons'] = [];
  for (const p of config.persons) {
    const zones = groups.get(p.group)?.zones;
    if (zones !== undefined && !zones.includes(zone)) continue;
    let data: ReturnType<FaceDataStore['open']>;
    try {
      data = faceData.open(digestOf(p.id));
    } catch {
      logger.warn({ readerId }, 'sealed face data fails its MAC: left out of the person list');
      continue;
    }
    if (!data) continue;
    persons.push({
      personId: p.id,
      group: p.group,
      faceTemplate: data.faceTemplate,
      ...(data.idNumber !== undefined ? { idNumber: data.idNumber } : {}),
    });
  }
  return { version, persons };
}
