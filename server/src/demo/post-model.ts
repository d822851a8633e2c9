import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface PostDoc {
  _id: Types.ObjectId;
  authorId: string;
  authorName: string;
  text: string;
  likes: string[];
  commentCount: number;
  createdAt: Date;
}

export interface CommentDoc {
  _id: Types.ObjectId;
  postId: Types.ObjectId;
  authorId: string;
  authorName: string;
  text: string;
  createdAt: Date;
}

const postSchema = new Schema<PostDoc>(
  {
    authorId: { type: String, required: true },
    authorName: { type: String, required: true },
    text: { type: String, required: true },
    likes: { type: [String], default: [] },
    commentCount: { type: Number, default: 0 },
  },
  { collection: 'posts', timestamps: { createdAt: true, updatedAt: false }, versionKey: false, strictQuery: 'throw' },
);
postSchema.index({ createdAt: -1 });

const commentSchema = new Schema<CommentDoc>(
  {
    postId: { type: Schema.Types.ObjectId, required: true },
    authorId: { type: String, required: true },
    authorName: { type: String, required: true },
    text: { type: String, required: true },
  },
  { collection: 'comments', timestamps: { createdAt: true, updatedAt: false }, versionKey: false, strictQuery: 'throw' },
);
commentSchema.index({ postId: 1, createdAt: 1 });

export function postModels(connection: Connection): { Post: Model<PostDoc>; Comment: Model<CommentDoc> } {
  return {
    Post: (connection.models.Post as Model<PostDoc> | undefined) ?? connection.model<PostDoc>('Post', postSchema),
    Comment: (connection.models.Comment as Model<CommentDoc> | undefined) ?? connection.model<CommentDoc>('Comment', commentSchema),
  };
}
