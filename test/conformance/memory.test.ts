import { MemoryTracker } from '../../lib/index';
import { trackerConformance } from '../../lib/testing';

trackerConformance('MemoryTracker', { create: () => new MemoryTracker() });
