import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface UserDoc {
  _id: Types.ObjectId;
  username: string;
  name: string;
  createdAt: Date;
}

export type UserModel = Model<UserDoc>;

const userSchema = new Schema<UserDoc>(
  {
    username: { type: String, required: true, lowercase: true, trim: true },
    name: { type: String, required: true },
  },
  { collection: 'users', timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);
userSchema.index({ username: 1 }, { unique: true });

export function userModel(connection: Connection): UserModel {
  return (connection.models.User as UserModel | undefined) ?? connection.model<UserDoc>('User', userSchema);
}
