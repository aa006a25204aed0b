/** Collections, and the people in each (the enrollment API): what they take and answer, enrollment before its reads. */
import {
  collectionDeletedSchema,
  collectionSchema,
  collectionsListSchema,
  enrollmentSchema,
  faceRemovedSchema,
  peopleListSchema,
  personRemovedSchema,
  personSchema,
} from '../api/api-schemas.js';
import { errorAnswer, errorText, keyHeader, type Operations, uploadSchema } from '../api/operation.js';

const pageQuery = {
  after: { description: 'the `next` of the page before: people whose names come after it', type: 'string' },
  limit: 'people on this page, 1 to 1000 (default 100)',
} as const;

export const PEOPLE_API = {
  '/collections/{collection}': {
    post: {
      summary: 'Create a collection',
      description:
        'A collection is a gallery of its own (Rekognition’s word): people and faces are enrolled in one, and `POST /?collection=` matches against one. The rules of a gallery (one face a photo, its dominant one; names that do not read as another; a photo under one name) hold inside each. The `default` collection needs no creating: it is the one `/people` and a plain `POST /` use.',
      tag: 'collections',
      key: 'always',
      answers: {
        201: { description: 'created, empty', schema: collectionSchema },
        400: errorAnswer('not a collection name'),
        401: errorAnswer('no API key'),
        409: errorAnswer('it exists already'),
      },
      examples: {
        create: { summary: 'a new collection', path: { collection: 'staff' }, headers: keyHeader, status: 201 },
        createAnother: { summary: 'another', path: { collection: 'archive' }, headers: keyHeader, status: 201 },
        exists: {
          summary: 'one that exists',
          path: { collection: 'staff' },
          headers: keyHeader,
          status: 409,
          text: errorText('COLLECTION_EXISTS', { name: 'staff' }),
        },
        badName: {
          summary: 'a name with a slash',
          path: { collection: 'a/b' },
          headers: keyHeader,
          status: 400,
          text: errorText('INVALID_COLLECTION', { name: 'a/b', max: 64 }),
        },
      },
    },
    get: {
      summary: 'What a collection holds',
      tag: 'collections',
      key: 'for-changes',
      answers: {
        200: { description: 'its people, faces, version and size', schema: collectionSchema },
        404: errorAnswer('no such collection'),
      },
      examples: {
        describe: { summary: 'a collection', path: { collection: 'staff' }, headers: keyHeader, status: 200 },
        nowhere: {
          summary: 'one nobody created',
          path: { collection: 'nowhere' },
          headers: keyHeader,
          status: 404,
          text: errorText('COLLECTION_NOT_FOUND', { name: 'nowhere' }),
        },
      },
    },
    delete: {
      summary: 'Delete a collection, everyone in it and their enrollment photos',
      tag: 'collections',
      key: 'always',
      answers: {
        200: { description: 'deleted', schema: collectionDeletedSchema },
        404: errorAnswer('no such collection'),
      },
      examples: {
        remove: { summary: 'a collection', path: { collection: 'archive' }, headers: keyHeader, status: 200 },
      },
    },
  },
  '/collections': {
    get: {
      summary: 'Every collection',
      tag: 'collections',
      key: 'for-changes',
      answers: {
        200: { description: 'each collection, described', schema: collectionsListSchema },
        401: errorAnswer('no API key'),
      },
      examples: { list: { summary: 'with the key', headers: keyHeader, status: 200 } },
    },
  },
  '/collections/{collection}/people/{name}/faces': {
    post: {
      summary: 'Enroll a person in a collection with 1 to 10 photos of their face',
      tag: 'collections',
      key: 'always',
      body: { type: 'multipart/form-data', schema: uploadSchema('images', true) },
      answers: {
        201: { description: 'enrolled', schema: enrollmentSchema },
        200: { description: 'every photo was already enrolled', schema: enrollmentSchema },
        400: errorAnswer('an invalid name, or no photo'),
        404: errorAnswer('no such collection'),
        422: errorAnswer(
          'a photo whose face cannot be enrolled: none, several of about one size, too small or too blurred',
        ),
      },
      examples: {
        enroll: {
          summary: 'two photos of one person',
          path: { collection: 'staff', name: 'Aaron_Example' },
          headers: keyHeader,
          files: { images: ['Aaron_Peirsol_0001.jpg', 'Aaron_Peirsol_0002.jpg'] },
          status: 201,
        },
      },
    },
  },
  '/collections/{collection}/people': {
    get: {
      summary: 'Everyone enrolled in a collection, a page at a time',
      tag: 'collections',
      key: 'for-changes',
      query: pageQuery,
      answers: {
        200: { description: 'names and face counts', schema: peopleListSchema },
        404: errorAnswer('no such collection'),
      },
      examples: {
        list: {
          summary: 'the first page',
          path: { collection: 'staff' },
          query: { limit: '10' },
          headers: keyHeader,
          status: 200,
        },
      },
    },
  },
  '/collections/{collection}/people/{name}': {
    get: {
      summary: 'One person’s faces in a collection',
      tag: 'collections',
      key: 'for-changes',
      answers: { 200: { description: 'the person', schema: personSchema }, 404: errorAnswer('nobody by that name') },
      examples: {
        person: {
          summary: 'an enrolled person',
          path: { collection: 'staff', name: 'Aaron_Example' },
          headers: keyHeader,
          status: 200,
        },
      },
    },
    delete: {
      summary: 'Remove a person from a collection',
      tag: 'collections',
      key: 'always',
      answers: {
        200: { description: 'removed', schema: personRemovedSchema },
        404: errorAnswer('nobody by that name'),
      },
      examples: {
        remove: {
          summary: 'an enrolled person',
          path: { collection: 'staff', name: 'Aaron_Example' },
          headers: keyHeader,
          status: 200,
        },
      },
    },
  },
  '/collections/{collection}/people/{name}/faces/{faceId}': {
    delete: {
      summary: 'Remove one face of a person in a collection',
      tag: 'collections',
      key: 'always',
      answers: {
        200: { description: 'removed', schema: faceRemovedSchema },
        404: errorAnswer('no such person or face'),
      },
      examples: {
        nobody: {
          summary: 'a person the collection does not have',
          path: { collection: 'staff', name: 'Nobody_Here', faceId: '0000000000000000' },
          headers: { ...keyHeader, Accept: 'text/plain' },
          status: 404,
          text: errorText('PERSON_NOT_FOUND', { name: 'Nobody_Here' }),
        },
      },
    },
  },
  '/people/{name}/faces': {
    post: {
      summary: 'Enroll a person with 1 to 10 photos of their face',
      tag: 'people',
      key: 'always',
      body: { type: 'multipart/form-data', schema: uploadSchema('images', true) },
      answers: {
        201: { description: 'enrolled', schema: enrollmentSchema },
        200: { description: 'every photo was already enrolled', schema: enrollmentSchema },
        400: errorAnswer('an invalid name, or no photo'),
        401: errorAnswer('no API key'),
        403: errorAnswer('a wrong API key'),
        422: errorAnswer(
          'a photo whose face cannot be enrolled: none, several of about one size, too small or too blurred',
        ),
      },
      examples: {
        enroll: {
          summary: 'two photos of one person',
          path: { name: 'Aaron_Example' },
          headers: keyHeader,
          files: { images: ['Aaron_Peirsol_0001.jpg', 'Aaron_Peirsol_0002.jpg'] },
          status: 201,
        },
        noKey: {
          summary: 'without the API key',
          path: { name: 'Aaron_Example' },
          files: { images: ['Aaron_Peirsol_0001.jpg'] },
          status: 401,
          text: errorText('API_KEY_MISSING'),
        },
      },
    },
  },
  '/people': {
    get: {
      summary: 'Everyone enrolled in the default collection, a page at a time',
      tag: 'people',
      key: 'for-changes',
      query: pageQuery,
      answers: {
        200: { description: 'names and face counts', schema: peopleListSchema },
        401: errorAnswer('no API key'),
      },
      examples: { list: { summary: 'with the key', headers: keyHeader, status: 200 } },
    },
  },
  '/people/{name}/faces/{faceId}': {
    delete: {
      summary: 'Remove one face of a person',
      tag: 'people',
      key: 'always',
      answers: {
        200: { description: 'removed', schema: faceRemovedSchema },
        404: errorAnswer('no such person or face'),
      },
      examples: {
        unknownFace: {
          summary: 'a face id the person does not have',
          path: { name: 'Aaron_Example', faceId: '0000000000000000' },
          headers: { ...keyHeader, Accept: 'text/plain' },
          status: 404,
          text: errorText('FACE_NOT_FOUND', { name: 'Aaron_Example', faceId: '0000000000000000' }),
        },
      },
    },
  },
  '/people/{name}': {
    get: {
      summary: 'One person’s faces',
      tag: 'people',
      key: 'for-changes',
      answers: { 200: { description: 'the person', schema: personSchema }, 404: errorAnswer('nobody by that name') },
      examples: {
        person: { summary: 'an enrolled person', path: { name: 'Aaron_Example' }, headers: keyHeader, status: 200 },
        nobody: {
          summary: 'a name nobody has',
          path: { name: 'Nobody_Here' },
          headers: { ...keyHeader, Accept: 'text/plain' },
          status: 404,
          text: errorText('PERSON_NOT_FOUND', { name: 'Nobody_Here' }),
        },
      },
    },
    delete: {
      summary: 'Remove a person and every face of theirs',
      tag: 'people',
      key: 'always',
      answers: {
        200: { description: 'removed', schema: personRemovedSchema },
        404: errorAnswer('nobody by that name'),
      },
      examples: {
        remove: { summary: 'an enrolled person', path: { name: 'Aaron_Example' }, headers: keyHeader, status: 200 },
      },
    },
  },
} satisfies Operations;
